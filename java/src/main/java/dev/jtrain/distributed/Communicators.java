package dev.jtrain.distributed;

import dev.jtrain.tensor.Tensor;

/**
 * Where a {@link Communicator} comes from. This is the "dp" branch's stub: {@link #single()} is complete;
 * {@link #fromEnvironment()} recognises an mpirun launch but has no MPI binding here (the "mpi" branch's
 * version of this file replaces it, with the same signatures).
 */
public final class Communicators {
    /** Set by OpenMPI's mpirun in every rank's environment (the number of ranks). */
    public static final String MPIRUN_SIZE_ENV = "OMPI_COMM_WORLD_SIZE";

    private Communicators() {
    }

    /** A group of one: rank 0 of size 1; every collective leaves the data as it is. */
    public static Communicator single() {
        return new Single();
    }

    /** MPI_COMM_WORLD when launched by mpirun ({@value #MPIRUN_SIZE_ENV} set), else {@link #single()}. */
    public static Communicator fromEnvironment() {
        if (!launchedByMpirun()) {
            return single();
        }
        throw new UnsupportedOperationException("launched by mpirun (" + MPIRUN_SIZE_ENV + "="
                + System.getenv(MPIRUN_SIZE_ENV) + ") but this build has no MPI communicator");
    }

    /** Whether OpenMPI's mpirun started this process. */
    public static boolean launchedByMpirun() {
        String n = System.getenv(MPIRUN_SIZE_ENV);
        return n != null && !n.isBlank();
    }

    private static final class Single implements Communicator {
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
            java.util.Objects.checkFromIndexSize(offset, length, data.length);
        }

        @Override
        public void allReduceSum(double[] data, int offset, int length) {
            java.util.Objects.checkFromIndexSize(offset, length, data.length);
        }

        @Override
        public void allReduceSum(Tensor t) {
            java.util.Objects.requireNonNull(t, "t");
        }

        @Override
        public void broadcast(byte[] data, int root) {
            if (root != 0) {
                throw new IllegalArgumentException("broadcast: root " + root + " is not a rank of a group of 1");
            }
        }

        @Override
        public void barrier() {
        }

        @Override
        public void close() {
        }
    }
}
