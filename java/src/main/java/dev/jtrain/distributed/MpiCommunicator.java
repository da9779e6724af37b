package dev.jtrain.distributed;

import dev.jtrain.backend.jni.NativeLibrary;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.Objects;

/**
 * MPI_COMM_WORLD as a {@link Communicator}: the ranks mpirun started. OpenMPI ({@code libmpi.so.40}) is
 * loaded at run time by {@code libjtrain_mpi.so}; {@link #world()} initialises MPI on first use
 * (MPI_Init_thread, MPI_THREAD_SERIALIZED: every call here is synchronized) and {@link #close()} finalizes
 * it. MPI can be initialised once per process, so there is one instance and no second after close.
 *
 * <p>Tensors: a cpu tensor is reduced through its array; a cuda tensor through NCCL on the backend's stream
 * ({@link NcclCommunicator}, created on the first such call: collective); an emu tensor through a host copy
 * (emu device memory is host memory that NCCL cannot use).
 *
 * <p>Failure: errors come back as {@link MpiException} (MPI_ERRORS_RETURN). A rank that fails should exit
 * (non-zero) rather than {@link #close()}: MPI_Finalize waits for every rank, and ranks blocked in a
 * collective with it never arrive; a process that exits without finalizing makes mpirun end the job.
 * {@link #abort} ends every rank at once.
 */
public final class MpiCommunicator implements Communicator {

    /** System property: the libmpi to open (a soname or a path). */
    public static final String LIBRARY_PROPERTY = "jtrain.mpi.library";
    /** Environment variable, used when the property is not set (forward it with {@code mpirun -x JTRAIN_MPI}). */
    public static final String LIBRARY_ENV = "JTRAIN_MPI";
    /** OpenMPI's libmpi soname (OpenMPI 3.x to 5.x). */
    public static final String DEFAULT_LIBRARY = "libmpi.so.40";
    /** System property: the largest element count of one MPI call, 1 to Integer.MAX_VALUE. */
    public static final String CHUNK_PROPERTY = "jtrain.mpi.chunkElements";
    /**
     * Default elements per MPI call (16 MiB of floats). MPI counts are int, so some chunking is needed anyway; this
     * size because OpenMPI 4.1 took 4-15x longer for one 64 MiB all-reduce between 2 local ranks than for four
     * of 16 MiB (README, "bench allreduce"), and per-call overhead is negligible at 16 MiB.
     */
    public static final long DEFAULT_CHUNK_ELEMENTS = 1L << 22;

    private static MpiCommunicator world;
    private static boolean finalized;

    private final int rank;
    private final int size;
    private final boolean initialisedHere;
    private boolean closed;
    private NcclCommunicator nccl;

    private MpiCommunicator(int rank, int size, boolean initialisedHere) {
        this.rank = rank;
        this.size = size;
        this.initialisedHere = initialisedHere;
    }

    /**
     * MPI_COMM_WORLD, initialising MPI on the first call. Throws {@link DistributedUnavailableException} when
     * the shim was not built, OpenMPI is not installed, or MPI was already finalized in this process.
     */
    public static synchronized MpiCommunicator world() {
        if (world != null) {
            return world;
        }
        if (finalized) {
            throw new DistributedUnavailableException("MPI was finalized in this process (MpiCommunicator.close); "
                    + "MPI cannot be initialised twice in one process");
        }
        openLibrary();
        MpiNative.setChunkElements(chunkElements());
        int[] r = MpiNative.init();
        if (r[MpiNative.THREAD_LEVEL] < MpiNative.MPI_THREAD_SERIALIZED) {
            throw new DistributedUnavailableException("this MPI provides thread level " + r[MpiNative.THREAD_LEVEL]
                    + ", jtrain needs MPI_THREAD_SERIALIZED (" + MpiNative.MPI_THREAD_SERIALIZED
                    + ": calls from several threads, one at a time)");
        }
        world = new MpiCommunicator(r[MpiNative.RANK], r[MpiNative.SIZE], r[MpiNative.INITIALISED_HERE] == 1);
        return world;
    }

    /**
     * Loads the shim and opens OpenMPI without initialising MPI (so {@code jtrain info} can report it). Throws
     * {@link DistributedUnavailableException} naming what is missing and what to install.
     */
    public static synchronized String openLibrary() {
        try {
            NativeLibrary.load(NativeLibrary.Kind.MPI);
        } catch (IllegalStateException e) {
            throw new DistributedUnavailableException(e.getMessage(), e);
        }
        String path = libraryPath();
        String why = MpiNative.open(path);
        if (why != null) {
            throw new DistributedUnavailableException("OpenMPI not found: cannot load " + path + " (" + why
                    + "); install openmpi-bin and libopenmpi-dev (Debian/Ubuntu: apt-get install openmpi-bin "
                    + "libopenmpi-dev), or name OpenMPI's libmpi.so.40 with -D" + LIBRARY_PROPERTY + "=PATH or "
                    + LIBRARY_ENV + "=PATH");
        }
        return path;
    }

    /** Elements per MPI call: {@value #CHUNK_PROPERTY}, else {@link #DEFAULT_CHUNK_ELEMENTS}. */
    public static long chunkElements() {
        String chunk = System.getProperty(CHUNK_PROPERTY);
        if (chunk == null || chunk.isBlank()) {
            return DEFAULT_CHUNK_ELEMENTS;
        }
        try {
            long n = Long.parseLong(chunk.trim());
            if (n >= 1 && n <= Integer.MAX_VALUE) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(CHUNK_PROPERTY + " must be a count in [1, " + Integer.MAX_VALUE + "], got '"
                + chunk + "'");
    }

    /** The libmpi this process opens: {@value #LIBRARY_PROPERTY}, else {@value #LIBRARY_ENV}, else the soname. */
    public static String libraryPath() {
        String p = System.getProperty(LIBRARY_PROPERTY);
        if (p == null || p.isBlank()) {
            p = System.getenv(LIBRARY_ENV);
        }
        return p == null || p.isBlank() ? DEFAULT_LIBRARY : p.trim();
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public synchronized void allReduceSum(float[] data, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, Objects.requireNonNull(data, "data").length);
        ensureOpen();
        MpiNative.allReduceSumFloats(data, offset, length);
    }

    @Override
    public synchronized void allReduceSum(double[] data, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, Objects.requireNonNull(data, "data").length);
        ensureOpen();
        MpiNative.allReduceSumDoubles(data, offset, length);
    }

    @Override
    public synchronized void allReduceSum(Tensor t) {
        Objects.requireNonNull(t, "t");
        if (t.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException("allReduceSum: the tensor must be float32, got " + t.dtype());
        }
        ensureOpen();
        Device device = t.device();
        switch (device.kind()) {
            case CPU -> MpiNative.allReduceSumFloats(t.floats(), 0, t.numel());
            case CUDA -> nccl(device).allReduceSum(t);
            default -> {
                // emu: device memory is host memory NCCL cannot use; through a host copy
                try (Tensor host = t.to(Device.CPU)) {
                    MpiNative.allReduceSumFloats(host.floats(), 0, host.numel());
                    t.copyFrom(host);
                }
            }
        }
    }

    /**
     * NCCL all-reduce of a cuda tensor queued on {@code stream} (not the backend's): for the communication stream of
     * {@link DeviceGradientStream}. Collective; NCCL is set up on the first call as for {@link #allReduceSum(Tensor)}.
     */
    public synchronized void allReduceSumOnStream(Tensor t, long stream) {
        Objects.requireNonNull(t, "t");
        ensureOpen();
        if (t.device().kind() != Device.Kind.CUDA) {
            throw new IllegalArgumentException("allReduceSumOnStream: a cuda tensor is needed (NCCL), got one on "
                    + t.device());
        }
        nccl(t.device()).allReduceSum(t, stream);
    }

    @Override
    public synchronized void broadcast(byte[] data, int root) {
        Objects.requireNonNull(data, "data");
        if (root < 0 || root >= size) {
            throw new IllegalArgumentException("broadcast: root " + root + " is not a rank of " + size);
        }
        ensureOpen();
        MpiNative.broadcast(data, root);
    }

    @Override
    public synchronized void barrier() {
        ensureOpen();
        MpiNative.barrier();
    }

    /**
     * The MPI library's own all-reduce time, for {@code jtrain bench allreduce}: seconds per in-place
     * MPI_Allreduce of {@code floats} floats from a C buffer, {@code warmup} untimed calls then {@code reps}
     * timed, the slowest rank's mean. {@code chunked}: in this communicator's chunks (as the Java path), else one
     * call per all-reduce. Collective.
     */
    public synchronized double nativeAllReduceSeconds(long floats, int warmup, int reps, boolean chunked) {
        ensureOpen();
        return MpiNative.benchAllReduce(floats, warmup, reps, chunked);
    }

    /** MPI_Abort: ends every rank of the job with {@code code} (mpirun reports it). Returns only if that failed. */
    public synchronized void abort(int code) {
        MpiNative.abort(code);
    }

    /**
     * Destroys the NCCL communicator if any and finalizes MPI (when this class initialised it). Collective: every
     * rank must call it. Idempotent; no communicator can be had afterwards in this process.
     */
    @Override
    public void close() {
        synchronized (MpiCommunicator.class) {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                world = null;
                finalized = true;
                try {
                    if (nccl != null) {
                        nccl.close();
                    }
                } finally {
                    if (initialisedHere) {
                        MpiNative.finish();
                    }
                }
            }
        }
    }

    @Override
    public String toString() {
        return "MpiCommunicator[rank " + rank + " of " + size + ", " + libraryPath() + "]";
    }

    private NcclCommunicator nccl(Device device) {
        if (nccl == null) {
            nccl = NcclCommunicator.create(this, device);
        } else if (!nccl.device().equals(device)) {
            throw new IllegalArgumentException("allReduceSum: NCCL was set up on " + nccl.device()
                    + "; a tensor on " + device + " needs its own communicator");
        }
        return nccl;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("this MpiCommunicator is closed (MPI was finalized)");
        }
    }
}
