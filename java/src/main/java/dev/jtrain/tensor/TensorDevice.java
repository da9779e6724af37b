package dev.jtrain.tensor;

import java.util.ServiceLoader;

/**
 * What a {@link Tensor} needs from the backend of its device: allocation and the copies that
 * {@link Tensor#to} and {@link Tensor#copyFrom} count. The backend package implements it (every
 * {@code Backend} is a TensorDevice) and is found through {@link Provider} with a {@link ServiceLoader},
 * so this package depends on no other: {@code tensor} is the bottom layer, {@code backend} builds on it.
 */
public interface TensorDevice {

    Tensor zeros(DType dtype, Shape shape);

    /** A copy of a cpu tensor on this device. */
    Tensor fromHost(Tensor host);

    /** A cpu copy of a tensor on this device. */
    Tensor toHost(Tensor tensor);

    void copyFromHost(Tensor host, Tensor dst);

    void copyToHost(Tensor src, Tensor host);

    /** dst = src, both on this device. */
    void copy(Tensor src, Tensor dst);

    /** The counters of the transfers this device's backend made (one per backend instance). */
    TransferStats transferStats();

    /** Whether host copies go through pinned (page-locked) staging memory, for {@link TransferStats}. */
    default boolean stagesThroughPinnedMemory() {
        return false;
    }

    /** Resolves devices to their implementation (META-INF/services/dev.jtrain.tensor.TensorDevice$Provider). */
    interface Provider {
        TensorDevice forDevice(Device device);
    }

    /** The implementation of {@code device}, from the first provider on the class path or module path. */
    static TensorDevice of(Device device) {
        return Holder.PROVIDER.forDevice(device);
    }

    /** Loads the provider once, on first use. */
    final class Holder {
        static final Provider PROVIDER = ServiceLoader.load(Provider.class, Provider.class.getClassLoader())
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no dev.jtrain.tensor.TensorDevice$Provider on the class "
                        + "path: the jtrain jar is incomplete (META-INF/services is missing)"));

        private Holder() {
        }
    }
}
