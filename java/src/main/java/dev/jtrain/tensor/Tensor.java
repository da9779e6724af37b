package dev.jtrain.tensor;

import java.util.Objects;

/**
 * A contiguous, row-major tensor: shape, element type, device and storage. Tensors never move
 * between devices by themselves: {@link #to(Device)} and {@link #copyFrom(Tensor)} are the only
 * transfers, and both are counted in the {@link TransferStats} of the device's backend. Host arrays are reachable only for tensors on
 * the cpu device.
 *
 * <p>A device tensor holds device memory until {@link #close()} (views made by {@link #reshape} share it:
 * closing one closes the storage of all); a {@code Cleaner} is only the safety net for forgotten tensors,
 * and the allocator counts what it had to free.
 */
public final class Tensor implements AutoCloseable {
    private final Shape shape;
    private final DType dtype;
    private final Storage storage;

    public Tensor(Shape shape, DType dtype, Storage storage) {
        this(shape, dtype, storage, true);
    }

    /**
     * {@code newStorage}: the storage was just allocated for this tensor, so an open {@link TensorScope} takes it;
     * false for a view of an existing tensor's storage, which stays with whoever owns that tensor.
     */
    private Tensor(Shape shape, DType dtype, Storage storage, boolean newStorage) {
        this.shape = Objects.requireNonNull(shape, "shape");
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.storage = Objects.requireNonNull(storage, "storage");
        if (storage.bytes() < (long) shape.numel() * dtype.bytes()) {
            throw new IllegalArgumentException("storage of " + storage.bytes() + " bytes is too small for "
                    + dtype + " " + shape);
        }
        if (newStorage && !storage.device().isHost()) {
            TensorScope.track(this);
        }
    }

    // ---- host constructors (cpu device) ----

    /** A float32 cpu tensor over {@code data} (not copied). */
    public static Tensor of(float[] data, int... dims) {
        Shape s = Shape.of(dims);
        if (data.length != s.numel()) {
            throw new IllegalArgumentException("shape " + s + " needs " + s.numel() + " elements, got " + data.length);
        }
        return new Tensor(s, DType.FLOAT32, HostStorage.ofFloats(data));
    }

    /** An int64 cpu tensor over {@code data} (not copied). */
    public static Tensor ofLongs(long[] data, int... dims) {
        Shape s = Shape.of(dims);
        if (data.length != s.numel()) {
            throw new IllegalArgumentException("shape " + s + " needs " + s.numel() + " elements, got " + data.length);
        }
        return new Tensor(s, DType.INT64, HostStorage.ofLongs(data));
    }

    /** A zero-filled float32 tensor on {@code device}. */
    public static Tensor zeros(Device device, int... dims) {
        return TensorDevice.of(device).zeros(DType.FLOAT32, Shape.of(dims));
    }

    /** A zero-filled tensor of {@code dtype} and {@code shape} on {@code device}. */
    public static Tensor zeros(Device device, DType dtype, Shape shape) {
        return TensorDevice.of(device).zeros(dtype, shape);
    }

    // ---- accessors ----

    public Shape shape() {
        return shape;
    }

    public int[] dims() {
        return shape.dims();
    }

    public int dim(int axis) {
        return shape.dim(axis);
    }

    public int rank() {
        return shape.rank();
    }

    public int numel() {
        return shape.numel();
    }

    public DType dtype() {
        return dtype;
    }

    public Device device() {
        return storage.device();
    }

    public Storage storage() {
        return storage;
    }

    /** The float32 host array (cpu tensors only; the array may be longer than numel()). */
    public float[] floats() {
        return host("floats()").floats();
    }

    /** The int64 host array (cpu tensors only). */
    public long[] longs() {
        return host("longs()").longs();
    }

    private HostStorage host(String what) {
        if (!(storage instanceof HostStorage h)) {
            throw new IllegalStateException(what + " needs a cpu tensor, but this one is on " + device()
                    + "; call to(Device.CPU) first (a counted transfer)");
        }
        return h;
    }

    /** A copy of the elements as a new float array (cpu tensors only). */
    public float[] toFloatArray() {
        float[] out = new float[numel()];
        System.arraycopy(floats(), 0, out, 0, out.length);
        return out;
    }

    /** The single element of a one-element float tensor (cpu tensors only; use {@code to(Device.CPU).item()}). */
    public float item() {
        if (numel() != 1) {
            throw new IllegalStateException("item() needs a one-element tensor, shape is " + shape);
        }
        return floats()[0];
    }

    /** A view with another shape over the same storage (same element count). */
    public Tensor reshape(int... dims) {
        Shape s = Shape.of(dims);
        if (s.numel() != numel()) {
            throw new IllegalArgumentException("cannot reshape " + shape + " (" + numel() + " elements) to " + s);
        }
        return new Tensor(s, dtype, storage, false);   // a view: a scope open now does not take the base's memory
    }

    /**
     * This tensor on {@code target}: itself when it is already there, else a copy made through the
     * backends of both devices and counted in {@link TransferStats}.
     */
    public Tensor to(Device target) {
        Device here = device();
        if (here.equals(target)) {
            return this;
        }
        long t0 = System.nanoTime();
        Tensor result;
        TransferStats.Direction dir;
        if (target.isHost()) {
            result = TensorDevice.of(here).toHost(this);
            dir = TransferStats.Direction.DEVICE_TO_HOST;
        } else if (here.isHost()) {
            result = TensorDevice.of(target).fromHost(this);
            dir = TransferStats.Direction.HOST_TO_DEVICE;
        } else {
            result = TensorDevice.of(target).fromHost(TensorDevice.of(here).toHost(this));
            dir = TransferStats.Direction.DEVICE_TO_DEVICE;
        }
        Device counted = target.isHost() ? here : target; // device-to-device: under the destination
        record(counted, dir, System.nanoTime() - t0);
        return result;
    }

    /**
     * Copies {@code src} (same shape and dtype, on any device) into this tensor: the copy-into-existing
     * transfer that lets a training loop reuse its device batch buffers. Counted in {@link TransferStats}.
     * Returns this.
     */
    public Tensor copyFrom(Tensor src) {
        Objects.requireNonNull(src, "src");
        if (src.dtype != dtype || !src.shape.equals(shape)) {
            throw new IllegalArgumentException("copyFrom: src is " + src.dtype + " " + src.shape + " but this tensor is "
                    + dtype + " " + shape);
        }
        Device here = device();
        Device there = src.device();
        if (here.equals(there)) {
            TensorDevice.of(here).copy(src, this);
            return this;
        }
        long t0 = System.nanoTime();
        TransferStats.Direction dir;
        Device counted;
        if (there.isHost()) {
            TensorDevice.of(here).copyFromHost(src, this);
            dir = TransferStats.Direction.HOST_TO_DEVICE;
            counted = here;
        } else if (here.isHost()) {
            TensorDevice.of(there).copyToHost(src, this);
            dir = TransferStats.Direction.DEVICE_TO_HOST;
            counted = there;
        } else {
            TensorDevice.of(here).copyFromHost(TensorDevice.of(there).toHost(src), this);
            dir = TransferStats.Direction.DEVICE_TO_DEVICE;
            counted = here;
        }
        record(counted, dir, System.nanoTime() - t0);
        return this;
    }

    /** Counts one move of this tensor's bytes with the backend of {@code counted}. */
    private void record(Device counted, TransferStats.Direction dir, long nanos) {
        TensorDevice backend = TensorDevice.of(counted);
        backend.transferStats().record(dir, (long) numel() * dtype.bytes(), nanos, backend.stagesThroughPinnedMemory());
    }

    /** Releases the storage (device memory goes back to its allocator; a no-op on the cpu). Idempotent. */
    @Override
    public void close() {
        storage.close();
    }

    /** Whether this tensor's memory was released (by its close, a view's, or a {@link TensorScope}'s). */
    public boolean isReleased() {
        return storage.isReleased();
    }

    @Override
    public String toString() {
        return "Tensor(" + dtype + " " + shape + " on " + device() + ")";
    }
}
