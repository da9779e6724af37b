package dev.jtrain.tensor;

/** A tensor's elements in a Java array on the host: {@code float[]} for float32, {@code long[]} for int64. */
public final class HostStorage implements Storage {
    private final float[] floats;
    private final long[] longs;

    private HostStorage(float[] floats, long[] longs) {
        this.floats = floats;
        this.longs = longs;
    }

    public static HostStorage ofFloats(float[] data) {
        return new HostStorage(data, null);
    }

    public static HostStorage ofLongs(long[] data) {
        return new HostStorage(null, data);
    }

    public static HostStorage allocate(DType dtype, int numel) {
        return dtype == DType.FLOAT32 ? ofFloats(new float[numel]) : ofLongs(new long[numel]);
    }

    public float[] floats() {
        if (floats == null) {
            throw new IllegalStateException("tensor holds int64, not float32");
        }
        return floats;
    }

    public long[] longs() {
        if (longs == null) {
            throw new IllegalStateException("tensor holds float32, not int64");
        }
        return longs;
    }

    public int length() {
        return floats != null ? floats.length : longs.length;
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public long bytes() {
        return floats != null ? 4L * floats.length : 8L * longs.length;
    }
}
