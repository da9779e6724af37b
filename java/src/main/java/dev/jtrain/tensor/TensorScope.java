package dev.jtrain.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Closes, when it closes, every device tensor created on this thread while it was open (directly or by
 * layers, losses and optimizers built or run inside it), except those handed to {@link #keep}. For code
 * that makes many short-lived device tensors and cannot close each one where it is made:
 *
 * <pre>{@code
 * try (TensorScope scope = TensorScope.open()) {
 *     Tensor x = host.to(Device.EMU);
 *     Tensor y = new Linear(4, 2, true, gen, Device.EMU).forward(x, false);
 *     result = scope.keep(y);          // survives the scope; the caller closes it
 * }                                    // x, the layer's parameters and buffers: returned to the pool
 * }</pre>
 *
 * Build models outside a scope and run them inside: a layer made inside one loses its parameters with it;
 * a layer made outside keeps them and simply re-creates the work buffers (outputs, gradients) a scope
 * closed. Scopes nest (the innermost open scope of the thread owns a new tensor) and must be closed in reverse
 * order of opening (try-with-resources does that). Host tensors are not tracked: the JVM heap frees them.
 * Closing a tensor the scope also closes is harmless (close is idempotent). Views share their base's
 * memory: keeping one keeps the other.
 */
public final class TensorScope implements AutoCloseable {
    private static final ThreadLocal<ArrayDeque<TensorScope>> OPEN = ThreadLocal.withInitial(ArrayDeque::new);

    // Storages, not tensors: views (reshape) share their base's storage, and keeping a tensor must keep it.
    private final Map<Storage, Boolean> owned = new IdentityHashMap<>();
    private final List<Storage> order = new ArrayList<>();
    private boolean closed;

    private TensorScope() {
    }

    /** Opens a scope on this thread. */
    public static TensorScope open() {
        TensorScope s = new TensorScope();
        OPEN.get().push(s);
        return s;
    }

    /** Called for every new device tensor: the innermost open scope of this thread (if any) owns it. */
    static void track(Tensor t) {
        ArrayDeque<TensorScope> open = OPEN.get();
        if (!open.isEmpty()) {
            TensorScope s = open.peek();
            if (s.owned.put(t.storage(), Boolean.TRUE) == null) {
                s.order.add(t.storage());
            }
        }
    }

    /**
     * Runs {@code make} as if no scope were open on this thread: the device tensors it creates belong to the caller,
     * not to the innermost scope (a parameter's gradient allocated on first use by a backward run inside a scope).
     */
    public static <T> T outside(java.util.function.Supplier<T> make) {
        ArrayDeque<TensorScope> open = OPEN.get();
        if (open.isEmpty()) {
            return make.get();
        }
        OPEN.set(new ArrayDeque<>());
        try {
            return make.get();
        } finally {
            OPEN.set(open);
        }
    }

    /**
     * A tensor made by {@code make} that lives as long as {@code owner}: when an open scope of this thread owns
     * {@code owner}'s memory, that scope owns the new tensor too; otherwise no scope does, whatever scope is open now.
     * (A parameter's gradient, allocated by the first backward: it goes with the parameter's value.)
     */
    public static Tensor alongside(Tensor owner, java.util.function.Supplier<Tensor> make) {
        Tensor t = outside(make);
        for (TensorScope s : OPEN.get()) {
            if (s.owned.containsKey(owner.storage())) {
                if (s.owned.put(t.storage(), Boolean.TRUE) == null) {
                    s.order.add(t.storage());
                }
                break;
            }
        }
        return t;
    }

    /**
     * Lets {@code t} (and every view sharing its storage) outlive this scope; the caller becomes responsible
     * for closing it. Returns t.
     */
    public <T extends Tensor> T keep(T t) {
        owned.remove(t.storage());
        return t;
    }

    /** Device tensors this scope will close. */
    public int size() {
        return owned.size();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        ArrayDeque<TensorScope> open = OPEN.get();
        if (open.peek() != this) {
            throw new IllegalStateException("TensorScope closed out of order (or on another thread): close the "
                    + "innermost scope first");
        }
        open.pop();
        closed = true;
        for (int i = order.size() - 1; i >= 0; i--) {
            Storage st = order.get(i);
            if (owned.containsKey(st)) {
                st.close();
            }
        }
        owned.clear();
        order.clear();
    }
}
