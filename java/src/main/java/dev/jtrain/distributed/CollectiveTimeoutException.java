package dev.jtrain.distributed;

/** A collective did not complete in time: a rank died or hangs. The message names the collective and the step. */
public final class CollectiveTimeoutException extends RuntimeException {
    public CollectiveTimeoutException(String message, Throwable cause) {
        super(message, cause);
    }
}
