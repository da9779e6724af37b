package dev.jtrain.check;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What an {@link OpCase} handler sees of one case: its params, its inputs as tensors on the chosen device
 * (moved there with {@link Tensor#to}), and where to put its results. Results are snapshotted to the host
 * when put (layers reuse their output buffers). The runner then compares every output and gradient of the
 * case with these results. Every problem is reported as a {@link CaseException} with a plain message.
 */
public final class CaseContext {
    /** A result the handler computed, on the host. */
    record Actual(double[] values, int[] shape, boolean integer) {
    }

    private final CaseData data;
    private final Device device;
    private final Map<String, Actual> actuals = new LinkedHashMap<>();
    private final Map<String, List<Actual>> stacks = new LinkedHashMap<>();
    private final Map<String, Comparison> custom = new LinkedHashMap<>();
    private final Set<String> informational = new LinkedHashSet<>();
    private final List<String> notes = new ArrayList<>();

    CaseContext(CaseData data, Device device) {
        this.data = data;
        this.device = device;
    }

    public Device device() {
        return device;
    }

    public String caseName() {
        return data.displayName();
    }

    public String op() {
        return data.op();
    }

    public CaseData data() {
        return data;
    }

    // ------------------------------------------------------------------ params

    public boolean hasParam(String name) {
        JsonNode p = data.params().get(name);
        return p != null && !p.isNull();
    }

    /** The raw param node; throws "missing param" when absent. */
    public JsonNode param(String name) {
        JsonNode p = data.params().get(name);
        if (p == null || p.isNull()) {
            throw new CaseException("missing param '" + name + "'");
        }
        return p;
    }

    public double paramDouble(String name) {
        JsonNode p = param(name);
        if (!p.isNumber()) {
            throw badParam(name, p, "a number");
        }
        return CaseTensor.number("params." + name, p, false);
    }

    public double paramDouble(String name, double fallback) {
        return hasParam(name) ? paramDouble(name) : fallback;
    }

    public int paramInt(String name) {
        JsonNode p = param(name);
        if (p.isIntegralNumber() && p.canConvertToInt()) {
            return p.asInt();
        }
        if (p.isNumber() && p.asDouble() == Math.rint(p.asDouble()) && Math.abs(p.asDouble()) < Integer.MAX_VALUE) {
            return (int) p.asDouble();
        }
        throw badParam(name, p, "an integer");
    }

    public int paramInt(String name, int fallback) {
        return hasParam(name) ? paramInt(name) : fallback;
    }

    public boolean paramBool(String name) {
        JsonNode p = param(name);
        if (!p.isBoolean()) {
            throw badParam(name, p, "true or false");
        }
        return p.asBoolean();
    }

    public boolean paramBool(String name, boolean fallback) {
        return hasParam(name) ? paramBool(name) : fallback;
    }

    public String paramString(String name) {
        JsonNode p = param(name);
        if (!p.isTextual()) {
            throw badParam(name, p, "a string");
        }
        return p.asText();
    }

    public String paramString(String name, String fallback) {
        return hasParam(name) ? paramString(name) : fallback;
    }

    /** An integer list param (a single integer is a list of one). */
    public int[] paramInts(String name) {
        JsonNode p = param(name);
        if (p.isIntegralNumber()) {
            return new int[] {p.asInt()};
        }
        if (!p.isArray()) {
            throw badParam(name, p, "a list of integers");
        }
        int[] out = new int[p.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = p.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw badParam(name, p, "a list of integers");
            }
            out[i] = v.asInt();
        }
        return out;
    }

    /** A number list param (a single number is a list of one). */
    public double[] paramDoubles(String name) {
        JsonNode p = param(name);
        if (p.isNumber()) {
            return new double[] {paramDouble(name)};
        }
        if (!p.isArray()) {
            throw badParam(name, p, "a list of numbers");
        }
        double[] out = new double[p.size()];
        for (int i = 0; i < out.length; i++) {
            if (!p.get(i).isNumber()) {
                throw badParam(name, p, "a list of numbers");
            }
            out[i] = CaseTensor.number("params." + name + "[" + i + "]", p.get(i), false);
        }
        return out;
    }

    /**
     * A square window param: an integer k or a pair [k, k] (PyTorch's [h, w]); {@code what} names the layer
     * limit in the message for a non-square pair.
     */
    public int paramSquare(String name, String what) {
        int[] v = paramInts(name);
        if (v.length == 1 || (v.length == 2 && v[0] == v[1])) {
            return v[0];
        }
        throw new CaseException("bad param '" + name + "': " + param(name) + " is not square; " + what);
    }

    public static CaseException badParam(String name, JsonNode value, String expected) {
        return new CaseException("bad param '" + name + "': expected " + expected + ", got " + value);
    }

    // ------------------------------------------------------------------ inputs

    public boolean hasInput(String name) {
        return data.has("inputs", name);
    }

    /** The case tensor of an input (host data). */
    public CaseTensor inputData(String name) {
        return data.tensor("inputs", name);
    }

    public int[] inputShape(String name) {
        return inputData(name).shape();
    }

    /** A float input as a float32 tensor on the device. */
    public Tensor input(String name) {
        CaseTensor t = inputData(name);
        if (t.isInteger()) {
            throw new CaseException("input '" + name + "' has dtype int64, expected float32");
        }
        return t.toHostTensor().to(device);
    }

    /**
     * A float input with a required shape (-1 matches any size; the rank must match), as a float32 tensor on
     * the device.
     */
    public Tensor input(String name, int... dims) {
        requireShape("input '" + name + "'", inputShape(name), dims);
        return input(name);
    }

    /** A float input as a float32 tensor on the cpu (for handlers that slice case data, e.g. a stacked sequence). */
    public Tensor inputHost(String name) {
        CaseTensor t = inputData(name);
        if (t.isInteger()) {
            throw new CaseException("input '" + name + "' has dtype int64, expected float32");
        }
        return t.toHostTensor();
    }

    /** An int64 input (class labels) on the device. */
    public Tensor labels(String name) {
        CaseTensor t = inputData(name);
        if (!t.isInteger()) {
            throw new CaseException("input '" + name + "' has dtype " + t.dtypeName() + ", expected int64");
        }
        return t.toHostTensor().to(device);
    }

    /** Throws "wrong shape" when {@code actual} does not match {@code expected} (-1 matches any size). */
    public static void requireShape(String what, int[] actual, int... expected) {
        boolean ok = actual.length == expected.length;
        for (int i = 0; ok && i < actual.length; i++) {
            ok = expected[i] < 0 || expected[i] == actual[i];
        }
        if (!ok) {
            throw new CaseException("wrong shape: " + what + " has shape " + Arrays.toString(actual) + ", expected "
                    + Arrays.toString(expected).replace("-1", "*"));
        }
    }

    // ------------------------------------------------------------------ expected side

    /** The names of the case's outputs and gradients, in file order (f32 and f64 sections merged). */
    public List<String> expectedNames() {
        Set<String> out = new LinkedHashSet<>();
        out.addAll(data.names("outputs"));
        out.addAll(data.names("outputs_f64"));
        out.addAll(data.names("grads"));
        out.addAll(data.names("grads_f64"));
        return new ArrayList<>(out);
    }

    public boolean expects(String name) {
        return expectedNames().contains(name);
    }

    /** The reference of an output or gradient: the f64 one where present. */
    public CaseTensor expected(String name) {
        for (String s : new String[] {"outputs_f64", "grads_f64", "outputs", "grads"}) {
            if (data.has(s, name)) {
                return data.tensor(s, name);
            }
        }
        throw new CaseException("the case has no output or gradient '" + name + "'");
    }

    // ------------------------------------------------------------------ results

    /** The result {@code name}: a snapshot of {@code t} (any device; int64 tensors are compared exactly). */
    public void put(String name, Tensor t) {
        actuals.put(name, snapshot(t));
    }

    public void put(String name, double[] values, int... shape) {
        actuals.put(name, new Actual(values.clone(), shape.clone(), false));
    }

    /**
     * Appends a snapshot of {@code t} to the sequence {@code name}; the result is the stack of all appended
     * tensors along a new leading axis ("Sequences over steps", FORMAT.md).
     */
    public void append(String name, Tensor t) {
        stacks.computeIfAbsent(name, k -> new ArrayList<>()).add(snapshot(t));
    }

    public void append(String name, double[] values, int... shape) {
        stacks.computeIfAbsent(name, k -> new ArrayList<>()).add(new Actual(values.clone(), shape.clone(), false));
    }

    /**
     * A comparison the handler defines itself (statistical families): {@code actual} against {@code expected}
     * with the given per-element (or length-1) tolerances. It replaces the default comparison of {@code name}.
     */
    public void check(String name, String label, int[] shape, double[] actual, double[] expected, double[] rtol,
                      double[] atol) {
        custom.put(name, Comparison.of(label, shape, actual, expected, rtol, atol, false));
    }

    /** Marks an output that is given for information only (e.g. a statistic of PyTorch's own RNG draw). */
    public void informational(String... names) {
        informational.addAll(Arrays.asList(names));
    }

    /** A note added to the result's message. */
    public void note(String text) {
        notes.add(text);
    }

    /** Snapshot of a tensor on the host as doubles. */
    static Actual snapshot(Tensor t) {
        Tensor h = t.to(Device.CPU);
        int n = h.numel();
        double[] v = new double[n];
        if (h.dtype() == DType.INT64) {
            long[] l = h.longs();
            for (int i = 0; i < n; i++) {
                v[i] = l[i];
            }
            return new Actual(v, h.dims(), true);
        }
        float[] f = h.floats();
        for (int i = 0; i < n; i++) {
            v[i] = f[i];
        }
        return new Actual(v, h.dims(), false);
    }

    /** The handler's value for {@code name}: a put, a stacked sequence, or null. */
    Actual actual(String name) {
        Actual a = actuals.get(name);
        if (a != null) {
            return a;
        }
        List<Actual> seq = stacks.get(name);
        if (seq == null || seq.isEmpty()) {
            return null;
        }
        int[] inner = seq.get(0).shape();
        int per = seq.get(0).values().length;
        double[] all = new double[per * seq.size()];
        for (int i = 0; i < seq.size(); i++) {
            Actual s = seq.get(i);
            if (s.values().length != per) {
                throw new CaseException("result '" + name + "' step " + i + " has " + s.values().length
                        + " elements, step 0 has " + per);
            }
            System.arraycopy(s.values(), 0, all, i * per, per);
        }
        int[] shape = new int[inner.length + 1];
        shape[0] = seq.size();
        System.arraycopy(inner, 0, shape, 1, inner.length);
        return new Actual(all, shape, seq.get(0).integer());
    }

    Comparison custom(String name) {
        return custom.get(name);
    }

    Map<String, Comparison> customs() {
        return custom;
    }

    boolean isInformational(String name) {
        return informational.contains(name);
    }

    List<String> notes() {
        return notes;
    }
}
