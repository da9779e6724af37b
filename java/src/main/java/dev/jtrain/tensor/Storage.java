package dev.jtrain.tensor;

/**
 * The memory behind a tensor. Host storage is a Java array ({@link HostStorage}); device backends
 * provide their own implementation (a block of device memory) in their package. {@link #close()}
 * releases device memory (a no-op for host arrays, which the GC reclaims); using storage after that
 * throws {@link IllegalStateException}.
 */
public interface Storage extends AutoCloseable {
    Device device();

    /** Capacity in bytes. */
    long bytes();

    /** Releases the memory (idempotent). */
    @Override
    default void close() {
    }

    /** Whether {@link #close()} released the memory (host memory never is: the GC owns it). */
    default boolean isReleased() {
        return false;
    }
}
