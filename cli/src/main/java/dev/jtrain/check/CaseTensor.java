package dev.jtrain.check;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jtrain.tensor.Tensor;

import java.util.Arrays;
import java.util.Locale;

/**
 * One tensor of a case: shape, dtype and data (row-major). float32 data is parsed with
 * {@link Float#parseFloat} from the number's exact decimal text and then widened (FORMAT.md), float64 with
 * {@link Double#parseDouble}, int64 as long.
 */
public final class CaseTensor {
    /** The element type a case stores the tensor in. */
    public enum Kind { FLOAT32, FLOAT64, INT64 }

    private final String where;
    private final int[] shape;
    private final Kind kind;
    private final double[] values;
    private final long[] longs;

    private CaseTensor(String where, int[] shape, Kind kind, double[] values, long[] longs) {
        this.where = where;
        this.shape = shape;
        this.kind = kind;
        this.values = values;
        this.longs = longs;
    }

    /** Parses {@code {"shape": [...], "dtype": ..., "data": [...]}}; {@code where} (e.g. "inputs.x") names it in errors. */
    public static CaseTensor parse(String where, JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new CaseException(where + " is not a tensor object {shape, dtype, data}");
        }
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new CaseException(where + ".shape is missing or not an array");
        }
        int[] shape = new int[shapeNode.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || d.asLong() < 0 || d.asLong() > Integer.MAX_VALUE) {
                throw new CaseException(where + ".shape[" + i + "] is not a non-negative integer: " + d);
            }
            shape[i] = d.asInt();
            numel *= shape[i];
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new CaseException(where + ".dtype is missing (expected float32, float64 or int64)");
        }
        Kind kind = switch (dtypeNode.asText()) {
            case "float32" -> Kind.FLOAT32;
            case "float64" -> Kind.FLOAT64;
            case "int64" -> Kind.INT64;
            default -> throw new CaseException(where + ".dtype '" + dtypeNode.asText()
                    + "' is not float32, float64 or int64");
        };
        JsonNode data = node.get("data");
        if (data == null || !data.isArray()) {
            throw new CaseException(where + ".data is missing or not an array");
        }
        if (data.size() != numel) {
            throw new CaseException(where + ": shape " + Arrays.toString(shape) + " needs " + numel
                    + " values, data has " + data.size());
        }
        int n = (int) numel;
        if (kind == Kind.INT64) {
            long[] longs = new long[n];
            for (int i = 0; i < n; i++) {
                JsonNode v = data.get(i);
                if (!v.isIntegralNumber()) {
                    throw new CaseException(where + ".data[" + i + "] is not an integer: " + v);
                }
                longs[i] = v.asLong();
            }
            return new CaseTensor(where, shape, kind, null, longs);
        }
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = number(where + ".data[" + i + "]", data.get(i), kind == Kind.FLOAT32);
        }
        return new CaseTensor(where, shape, kind, values, null);
    }

    /** The value of a JSON number (or a "NaN"/"Infinity" text), exact for float32 when {@code asFloat}. */
    static double number(String where, JsonNode v, boolean asFloat) {
        String text;
        if (v.isNumber()) {
            text = v.isBigDecimal() ? v.decimalValue().toString() : v.asText();
        } else if (v.isTextual()) {
            text = switch (v.asText().toLowerCase(Locale.ROOT)) {
                case "nan" -> "NaN";
                case "inf", "infinity", "+inf", "+infinity" -> "Infinity";
                case "-inf", "-infinity" -> "-Infinity";
                default -> throw new CaseException(where + " is not a number: " + v);
            };
        } else {
            throw new CaseException(where + " is not a number: " + v);
        }
        try {
            return asFloat ? (double) Float.parseFloat(text) : Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new CaseException(where + " is not a number: " + v);
        }
    }

    public String where() {
        return where;
    }

    public int[] shape() {
        return shape.clone();
    }

    public Kind kind() {
        return kind;
    }

    public boolean isInteger() {
        return kind == Kind.INT64;
    }

    public int numel() {
        return kind == Kind.INT64 ? longs.length : values.length;
    }

    /** The values widened to double (int64 converted). */
    public double[] values() {
        if (kind == Kind.INT64) {
            double[] d = new double[longs.length];
            for (int i = 0; i < d.length; i++) {
                d[i] = longs[i];
            }
            return d;
        }
        return values.clone();
    }

    public long[] longs() {
        if (kind != Kind.INT64) {
            throw new CaseException(where + " has dtype " + dtypeName() + ", expected int64");
        }
        return longs.clone();
    }

    public String dtypeName() {
        return kind.name().toLowerCase(Locale.ROOT);
    }

    /** A new cpu tensor: float32 for float data (float64 rounded to float32), int64 for integers. */
    public Tensor toHostTensor() {
        if (kind == Kind.INT64) {
            return Tensor.ofLongs(longs.clone(), shape);
        }
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return Tensor.of(f, shape);
    }
}
