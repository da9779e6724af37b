package dev.jtrain.distributed;

import dev.jtrain.backend.Backends;
import dev.jtrain.backend.jni.NativeLibrary;
import dev.jtrain.backend.gpu.DeviceStorage;
import dev.jtrain.backend.gpu.GpuBackend;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.Objects;

/**
 * NCCL all-reduce of cuda tensors, in place, on the device's {@link GpuBackend} stream: queued after the kernels
 * that wrote the tensor, seen by the kernels queued after it, no host wait. NCCL ({@code libnccl.so.2}) is
 * found at run time like cuBLAS ({@value #LIBRARY_PROPERTY}, {@code JTRAIN_NCCL}, the soname, NVIDIA's Python
 * wheels); its unique id goes from rank 0 to the others through a bootstrap {@link Communicator} (MPI).
 *
 * <p>One communicator per process and device; each rank drives one GPU, which it sees as cuda:0 (the native
 * library selects no other device yet: give each rank its GPU with CUDA_VISIBLE_DEVICES, README).
 */
public final class NcclCommunicator implements AutoCloseable {

    /** System property: the libnccl to open (a file or a folder); when set, the only place tried. */
    public static final String LIBRARY_PROPERTY = "jtrain.nccl.library";

    private final Communicator bootstrap;
    private final Device device;
    private long comm;

    private NcclCommunicator(Communicator bootstrap, Device device, long comm) {
        this.bootstrap = bootstrap;
        this.device = device;
        this.comm = comm;
    }

    /**
     * Sets up NCCL on {@code device} over the ranks of {@code bootstrap}: collective, every rank calls it. Every
     * rank first says whether it found NCCL (an all-reduce), so a rank without NCCL makes all of them throw
     * instead of leaving the others waiting for a unique id. Throws {@link IllegalArgumentException} for a device
     * that is not cuda, {@link DistributedUnavailableException} when NCCL is missing on any rank.
     */
    public static NcclCommunicator create(Communicator bootstrap, Device device) {
        Objects.requireNonNull(bootstrap, "bootstrap");
        requireCuda(device, "set up NCCL");
        RuntimeException failure = null;
        try {
            NativeLibrary.load(NativeLibrary.Kind.MPI);
            String explicit = System.getProperty(LIBRARY_PROPERTY);
            String why = NcclNative.open(explicit == null || explicit.isBlank() ? null : explicit.trim());
            if (why != null) {
                failure = new DistributedUnavailableException("NCCL not found: libnccl.so.2 could not be loaded ("
                        + why + "); install NCCL 2 (e.g. apt-get install libnccl2 from NVIDIA's CUDA repository, or pip "
                        + "install nvidia-nccl-cu12), or name it with -D" + LIBRARY_PROPERTY + "=PATH or JTRAIN_NCCL=PATH");
            } else {
                Backends.gpu(device);   // the device must be usable before NCCL binds to it
            }
        } catch (IllegalStateException e) {
            failure = new DistributedUnavailableException(e.getMessage(), e);
        } catch (RuntimeException e) {   // DeviceUnavailableException and the like: reported after the vote
            failure = e;
        }
        // The vote: a rank that cannot go on throws, and so do the others, rather than wait for its unique id.
        float[] failed = {failure == null ? 0f : 1f};
        bootstrap.allReduceSum(failed, 0, 1);
        if (failure != null) {
            throw failure;
        }
        if (failed[0] > 0) {
            throw new DistributedUnavailableException("NCCL cannot be set up on " + (int) failed[0] + " of "
                    + bootstrap.size() + " ranks (NCCL or " + device + " missing there; this rank, " + bootstrap.rank()
                    + ", has both): see those ranks' errors");
        }
        byte[] id = bootstrap.rank() == 0 ? NcclNative.uniqueId() : new byte[NcclNative.UNIQUE_ID_BYTES];
        bootstrap.broadcast(id, 0);
        long comm = NcclNative.commInitRank(bootstrap.size(), id, bootstrap.rank());
        return new NcclCommunicator(bootstrap, device, comm);
    }

    /** The device this communicator reduces on. */
    public Device device() {
        return device;
    }

    /** Where NCCL was loaded from ("" before it is). */
    public static String loadedFrom() {
        return NcclNative.loadedFrom();
    }

    /**
     * Sum over all ranks of a float32 tensor on this communicator's device, in place, queued on the backend's
     * stream; errors NCCL reports at once (or asynchronously, from earlier calls) become {@link NcclException}.
     */
    public synchronized void allReduceSum(Tensor t) {
        allReduceSum(t, Backends.gpu(device).stream());
    }

    /**
     * As {@link #allReduceSum(Tensor)}, queued on {@code stream} instead of the backend's (a communication stream
     * ordered against the backend's by events: {@link DeviceGradientStream}).
     */
    public synchronized void allReduceSum(Tensor t, long stream) {
        Objects.requireNonNull(t, "t");
        if (comm == 0) {
            throw new IllegalStateException("this NcclCommunicator is closed");
        }
        if (t.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException("NCCL allReduceSum: the tensor must be float32, got " + t.dtype());
        }
        requireCuda(t.device(), "all-reduce through NCCL");
        if (!t.device().equals(device)) {
            throw new IllegalArgumentException("NCCL allReduceSum: the tensor is on " + t.device()
                    + " but this communicator is on " + device);
        }
        long ptr = ((DeviceStorage) t.storage()).address();
        NcclNative.allReduceSumFloats(comm, ptr, t.numel(), stream);
    }

    /** ncclCommDestroy. Idempotent. Collective in NCCL's sense: every rank should close. */
    @Override
    public synchronized void close() {
        if (comm != 0) {
            long c = comm;
            comm = 0;
            NcclNative.commDestroy(c);
        }
    }

    @Override
    public String toString() {
        return "NcclCommunicator[" + device + ", rank " + bootstrap.rank() + " of " + bootstrap.size() + "]";
    }

    private static void requireCuda(Device device, String what) {
        Objects.requireNonNull(device, "device");
        switch (device.kind()) {
            case CUDA -> { }
            case EMU -> throw new IllegalArgumentException("NCCL cannot " + what + " on emu: emu's device memory is "
                    + "host memory that NCCL cannot reach; NCCL needs a cuda device (emu and cpu tensors are reduced "
                    + "through MPI: MpiCommunicator.allReduceSum)");
            default -> throw new IllegalArgumentException("NCCL cannot " + what + " on " + device + ": NCCL needs a "
                    + "cuda device (cpu tensors are reduced through MPI: MpiCommunicator.allReduceSum)");
        }
    }
}
