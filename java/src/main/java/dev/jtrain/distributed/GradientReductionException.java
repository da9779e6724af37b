package dev.jtrain.distributed;

/**
 * An overlapped gradient all-reduce failed: the message names the bucket (its parameters) and the step, the cause is
 * the communicator's error. A collective that timed out is a {@link CollectiveTimeoutException} instead.
 */
public final class GradientReductionException extends RuntimeException {
    public GradientReductionException(String message, Throwable cause) {
        super(message, cause);
    }
}
