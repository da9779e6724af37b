package dev.jtrain.distributed;

import dev.jtrain.backend.jni.NativeLibrary;

/** The NCCL entry points of {@code libjtrain_mpi.so} (native/dist/jni_nccl.cpp); NCCL is opened by {@link #open}. */
final class NcclNative {
    static {
        NativeLibrary.load(NativeLibrary.Kind.MPI);
    }

    private NcclNative() {
    }

    /** NCCL_UNIQUE_ID_BYTES. */
    static final int UNIQUE_ID_BYTES = 128;

    /** Finds and opens libnccl.so.2 ({@code explicitPath} alone when not null): null when done, else what was tried. */
    static native String open(String explicitPath);

    /** Where NCCL was loaded from ("" when not loaded). */
    static native String loadedFrom();

    static native byte[] uniqueId();

    /** ncclCommInitRank: collective over the ranks that share {@code id}; returns the communicator's handle. */
    static native long commInitRank(int nranks, byte[] id, int rank);

    /** ncclAllReduce (sum, float32, in place) of {@code count} floats at device address {@code ptr} on {@code stream}. */
    static native void allReduceSumFloats(long comm, long ptr, long count, long stream);

    static native void commDestroy(long comm);
}
