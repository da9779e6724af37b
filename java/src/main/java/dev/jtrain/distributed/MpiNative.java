package dev.jtrain.distributed;

import dev.jtrain.backend.jni.NativeLibrary;

/**
 * The MPI entry points of {@code libjtrain_mpi.so} (native/dist/jni_mpi.cpp). Loading this class loads the
 * shim only; OpenMPI itself is opened by {@link #open} (dlopen RTLD_GLOBAL). Callers serialise every call
 * ({@link MpiCommunicator} is synchronized): MPI is initialised with MPI_THREAD_SERIALIZED.
 */
final class MpiNative {
    static {
        NativeLibrary.load(NativeLibrary.Kind.MPI);
    }

    private MpiNative() {
    }

    /** Index of init()'s results. */
    static final int RANK = 0, SIZE = 1, THREAD_LEVEL = 2, INITIALISED_HERE = 3;

    /** MPI_THREAD_SERIALIZED in OpenMPI's mpi.h. */
    static final int MPI_THREAD_SERIALIZED = 2;

    /** dlopen(path, RTLD_NOW | RTLD_GLOBAL) and resolve the MPI table: null when done, else why not. */
    static native String open(String path);

    /** MPI_Init_thread (unless already initialised), MPI_ERRORS_RETURN on MPI_COMM_WORLD; {rank, size, level, ours}. */
    static native int[] init();

    /** MPI_Finalize unless already finalized. */
    static native void finish();

    /** MPI_Abort(MPI_COMM_WORLD, code): mpirun ends every rank. Returns only if MPI_Abort failed. */
    static native void abort(int code);

    /** The largest count of one MPI call (MPI counts are int); arrays above it go in chunks. */
    static native void setChunkElements(long n);

    static native void allReduceSumFloats(float[] data, int offset, int length);

    static native void allReduceSumDoubles(double[] data, int offset, int length);

    static native void broadcast(byte[] data, int root);

    static native void barrier();

    /**
     * Seconds per in-place MPI_Allreduce of {@code floats} floats in C (the slowest rank's mean); {@code chunked}:
     * in the chunks of {@link #setChunkElements}, else one call each.
     */
    static native double benchAllReduce(long floats, int warmup, int reps, boolean chunked);
}
