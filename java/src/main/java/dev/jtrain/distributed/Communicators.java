package dev.jtrain.distributed;

/** Where a {@link Communicator} comes from: one process alone, or the ranks mpirun started. */
public final class Communicators {

    /** Set by OpenMPI's mpirun in every rank's environment (the number of ranks). */
    public static final String MPIRUN_SIZE_ENV = "OMPI_COMM_WORLD_SIZE";

    private Communicators() {
    }

    /** Rank 0 of 1: every collective is a no-op (arguments are still checked). */
    public static Communicator single() {
        return SingleCommunicator.INSTANCE;
    }

    /**
     * MPI_COMM_WORLD when this process was launched by OpenMPI's mpirun ({@value #MPIRUN_SIZE_ENV} is set), else
     * {@link #single()}. Under mpirun a missing OpenMPI or shim is a {@link DistributedUnavailableException}, not a
     * silent fall back to one rank (N copies each training alone would look like it worked).
     */
    public static Communicator fromEnvironment() {
        return launchedByMpirun() ? MpiCommunicator.world() : single();
    }

    /** Whether OpenMPI's mpirun started this process. */
    public static boolean launchedByMpirun() {
        String n = System.getenv(MPIRUN_SIZE_ENV);
        return n != null && !n.isBlank();
    }
}
