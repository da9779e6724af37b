package dev.jtrain.distributed;

import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Tensor;

import java.util.Objects;

/** One rank, no peers: every collective is a no-op once its arguments are checked (as MPI would check them). */
final class SingleCommunicator implements Communicator {

    static final SingleCommunicator INSTANCE = new SingleCommunicator();

    private SingleCommunicator() {
    }

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int size() {
        return 1;
    }

    @Override
    public void allReduceSum(float[] data, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, Objects.requireNonNull(data, "data").length);
    }

    @Override
    public void allReduceSum(double[] data, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, Objects.requireNonNull(data, "data").length);
    }

    @Override
    public void allReduceSum(Tensor t) {
        Objects.requireNonNull(t, "t");
        if (t.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException("allReduceSum: the tensor must be float32, got " + t.dtype());
        }
    }

    @Override
    public void broadcast(byte[] data, int root) {
        Objects.requireNonNull(data, "data");
        if (root != 0) {
            throw new IllegalArgumentException("broadcast: root " + root + " is not a rank of 1");
        }
    }

    @Override
    public void barrier() {
    }

    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "SingleCommunicator[rank 0 of 1]";
    }
}
