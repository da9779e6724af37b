package dev.jtrain.tensor;

/**
 * The memory behind a tensor. Host storage is a Java array ({@link HostStorage}); device backends
 * provide their own implementation (device pointer plus size) in their package.
 */
public interface Storage {
    Device device();

    /** Capacity in bytes. */
    long bytes();
}
