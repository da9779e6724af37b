package dev.jtrain.nn;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A container's side of the gradient-ready hook: its children (the units of its backward, in backward order) report
 * their parameters as they finish; a parameter that several children use is passed on to the container's listener
 * only when the last of them has reported it, and {@link #reportRemaining} passes on whatever no child reported
 * (parameters of children the backward skipped, the container's own), so every parameter reaches the listener once.
 * Made per backward call, only when a listener is set.
 */
final class GradientLastUse implements GradientReadyListener {
    private final GradientReadyListener downstream;
    private final Map<Parameter, int[]> usesLeft = new IdentityHashMap<>();
    private final Map<Parameter, Boolean> passedOn = new IdentityHashMap<>();

    /** {@code units}: the children whose backward runs in this call (one count per child that holds a parameter). */
    GradientLastUse(List<Layer> units, GradientReadyListener downstream) {
        this.downstream = downstream;
        for (Layer unit : units) {
            for (Parameter p : unit.distinctParameters()) {
                usesLeft.computeIfAbsent(p, k -> new int[1])[0]++;
            }
        }
    }

    @Override
    public void ready(Parameter[] params) {
        List<Parameter> last = new ArrayList<>(params.length);
        for (Parameter p : params) {
            int[] left = usesLeft.get(p);
            if (left != null && --left[0] == 0 && passedOn.put(p, Boolean.TRUE) == null) {
                last.add(p);
            }
        }
        if (!last.isEmpty()) {
            downstream.ready(last.toArray(new Parameter[0]));
        }
    }

    /** Passes on the parameters of {@code container} that no child has passed on yet (they are final now). */
    void reportRemaining(Layer container) {
        List<Parameter> rest = new ArrayList<>();
        for (Parameter p : container.distinctParameters()) {
            if (!passedOn.containsKey(p)) {
                passedOn.put(p, Boolean.TRUE);
                rest.add(p);
            }
        }
        if (!rest.isEmpty()) {
            downstream.ready(rest.toArray(new Parameter[0]));
        }
    }
}
