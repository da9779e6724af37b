package dev.jtrain.tensor;

/** Element types. Float32 holds activations and parameters; int64 holds class labels and pooling indices. */
public enum DType {
    FLOAT32(4, "float32"),
    INT64(8, "int64");

    private final int bytes;
    private final String label;

    DType(int bytes, String label) {
        this.bytes = bytes;
        this.label = label;
    }

    public int bytes() {
        return bytes;
    }

    @Override
    public String toString() {
        return label;
    }
}
