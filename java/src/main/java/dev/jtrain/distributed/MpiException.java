package dev.jtrain.distributed;

/** An MPI call failed: the message names the call and MPI's own error string and class. */
public final class MpiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MpiException(String message) {
        super(message);
    }
}
