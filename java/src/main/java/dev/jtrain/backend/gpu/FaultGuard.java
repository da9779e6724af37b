package dev.jtrain.backend.gpu;

import dev.jtrain.backend.DeviceUnavailableException;
import dev.jtrain.backend.jni.CudaException;
import dev.jtrain.backend.jni.NativeApi;
import dev.jtrain.tensor.Device;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Set;

/**
 * Wraps a device's {@link NativeApi} so that a fault which leaves the CUDA context unusable (illegal
 * address, launch failure, device-side assert, ...) puts the device in a <i>lost</i> state: every later
 * call fails at once with one {@link DeviceUnavailableException} naming the first failing op and saying
 * the process must restart, instead of a cascade of unrelated errors.
 *
 * <p>CUDA reports a kernel's fault at a later call, so the op named is the one where it surfaced. With
 * {@code JTRAIN_CUDA_SYNC=1} (or {@code sync = true}) the guard synchronises the stream after every launch,
 * so the failing op is named exactly (slow; for debugging).
 */
public final class FaultGuard implements InvocationHandler {
    /** cudaError_t values after which the context cannot be used again (CUDA runtime API docs). */
    static final Set<Integer> FATAL = Set.of(
            700, // cudaErrorIllegalAddress
            702, // cudaErrorLaunchTimeout
            710, // cudaErrorAssert
            714, // cudaErrorHardwareStackError
            715, // cudaErrorIllegalInstruction
            716, // cudaErrorMisalignedAddress
            717, // cudaErrorInvalidAddressSpace
            718, // cudaErrorInvalidPc
            719, // cudaErrorLaunchFailure
            214  // cudaErrorECCUncorrectable
    );

    private final NativeApi api;
    private final Device device;
    private final boolean sync;
    private volatile String lost;
    // Profiling (benchmarks): native calls and the time spent inside them. Plain fields: a backend is driven by
    // one thread at a time; under concurrent use the figures are approximate.
    private volatile boolean timing;
    private long calls;
    private long nativeNanos;

    private FaultGuard(NativeApi api, Device device, boolean sync) {
        this.api = api;
        this.device = device;
        this.sync = sync;
    }

    /** The guarded api; {@code sync} null reads {@code JTRAIN_CUDA_SYNC}. */
    @SuppressWarnings("exports") // NativeApi stays module-internal: outside the module only Backends builds these
    public static NativeApi wrap(NativeApi api, Device device, Boolean sync) {
        boolean s = sync != null ? sync : "1".equals(System.getenv("JTRAIN_CUDA_SYNC"));
        return (NativeApi) Proxy.newProxyInstance(NativeApi.class.getClassLoader(), new Class<?>[] {NativeApi.class},
                new FaultGuard(api, device, s));
    }

    /** The guard behind a wrapped api (for its state), or null. */
    @SuppressWarnings("exports") // NativeApi stays module-internal: outside the module only Backends builds these
    public static FaultGuard of(NativeApi wrapped) {
        return Proxy.isProxyClass(wrapped.getClass()) && Proxy.getInvocationHandler(wrapped) instanceof FaultGuard g
                ? g : null;
    }

    /** Why the device is lost, or null while it works. */
    public String lostReason() {
        return lost;
    }

    public boolean synchronizesEachLaunch() {
        return sync;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class) {
            return method.invoke(this, args);
        }
        String why = lost;
        if (why != null) {
            throw new DeviceUnavailableException(why);
        }
        calls++;
        long t0 = timing ? System.nanoTime() : 0L;
        try {
            Object result = method.invoke(api, args);
            if (sync && isLaunch(method)) {
                api.streamSynchronize((Long) args[args.length - 1]);
            }
            return result;
        } catch (InvocationTargetException e) {
            throw classify(method.getName(), e.getCause());
        } catch (CudaException e) {   // from the synchronisation after a launch: that launch failed
            throw classify(method.getName(), e);
        } finally {
            if (timing) {
                nativeNanos += System.nanoTime() - t0;
            }
        }
    }

    /** Starts (or stops) timing the native calls; resets the counters. */
    public void profile(boolean on) {
        calls = 0;
        nativeNanos = 0;
        timing = on;
    }

    /** Native calls made since {@link #profile} (counted always). */
    public long calls() {
        return calls;
    }

    /** Nanoseconds spent inside native calls since {@link #profile}(true): kernels on emu, launch costs on a GPU. */
    public long nativeNanos() {
        return nativeNanos;
    }

    /** Work queued on a stream (its last argument): kernel launches and staged copies. */
    private static boolean isLaunch(Method m) {
        Class<?>[] p = m.getParameterTypes();
        String n = m.getName();
        return p.length > 0 && p[p.length - 1] == long.class && !n.startsWith("stream") && !n.startsWith("copy")
                && !n.startsWith("transferStager") && !n.startsWith("emu") && !NOT_ON_A_STREAM.contains(n);
    }

    /** Calls whose last argument is a long but not a stream. */
    private static final Set<String> NOT_ON_A_STREAM = Set.of("memset", "free", "malloc");

    private Throwable classify(String op, Throwable t) {
        if (t instanceof CudaException c && FATAL.contains(c.statusCode())) {
            synchronized (this) {
                if (lost == null) {
                    lost = "device " + device + " is lost after a fatal error in " + op + " (" + c.getMessage()
                            + "); the CUDA context cannot be used again: restart the process"
                            + (sync ? "" : " (set JTRAIN_CUDA_SYNC=1 to name the failing op exactly)");
                }
            }
            return new DeviceUnavailableException(lost, c);
        }
        return t;
    }
}
