package dev.jtrain.backend;

/**
 * A device that cannot be used in this process: {@code cuda} without a GPU or driver, {@code cuda:7} on a
 * one-GPU machine, a native library that was not built, or a device lost after a fatal kernel error. The
 * message is one line that says why (the CLI prints it and exits with status 2).
 */
public final class DeviceUnavailableException extends RuntimeException {
    public DeviceUnavailableException(String message) {
        super(message);
    }

    public DeviceUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
