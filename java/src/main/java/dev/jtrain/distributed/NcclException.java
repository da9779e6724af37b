package dev.jtrain.distributed;

/** An NCCL call failed (or a communicator reported an asynchronous error): names the call and NCCL's string. */
public final class NcclException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NcclException(String message) {
        super(message);
    }
}
