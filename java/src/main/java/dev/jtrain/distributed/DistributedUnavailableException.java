package dev.jtrain.distributed;

/**
 * A communicator cannot be had here: MPI support not built, OpenMPI or NCCL not installed, MPI already
 * finalized in this process. The message says what is missing and what to install or change.
 */
public final class DistributedUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DistributedUnavailableException(String message) {
        super(message);
    }

    public DistributedUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
