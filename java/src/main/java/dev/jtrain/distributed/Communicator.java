package dev.jtrain.distributed;

/** A group of ranks that reduce together (MPI_COMM_WORLD, or N threads in one JVM for tests). */
public interface Communicator extends AutoCloseable {
    int rank();
    int size();
    /** Element-wise sum over all ranks, in place; every rank gets the same bits. */
    void allReduceSum(float[] data, int offset, int length);
    void allReduceSum(double[] data, int offset, int length);
    /** Sum over all ranks of a float32 tensor in place (host tensors through the arrays; device tensors
     * through NCCL where the implementation supports it, else a clear UnsupportedOperationException). */
    void allReduceSum(dev.jtrain.tensor.Tensor t);
    /** Root's bytes to every rank (same length on all ranks). */
    void broadcast(byte[] data, int root);
    void barrier();
    @Override void close();
}
