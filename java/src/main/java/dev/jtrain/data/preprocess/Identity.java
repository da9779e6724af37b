package dev.jtrain.data.preprocess;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** {@code none}: the data as loaded (pixels in [0, 1]). */
public final class Identity implements Preprocessor {
    public static final String TYPE = "none";
    private final int[] dims;

    public Identity(int[] dims) {
        this.dims = dims.clone();
    }

    @Override
    public String spec() {
        return TYPE;
    }

    @Override
    public int[] inputDims() {
        return dims.clone();
    }

    @Override
    public int[] outputDims() {
        return dims.clone();
    }

    @Override
    public void apply(float[] in, float[] out, int n) {
        if (out != in) {
            System.arraycopy(in, 0, out, 0, n * inputSize());
        }
    }

    @Override
    public String summary() {
        return "none";
    }

    @Override
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("type", TYPE);
        o.set("input_dims", JsonArrays.ints(dims));
        return o;
    }

    static Identity fromJson(ObjectNode o) {
        return new Identity(JsonArrays.readInts(o, "input_dims"));
    }
}
