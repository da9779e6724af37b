package dev.jtrain.data.preprocess;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Base64;

/**
 * How fitted preprocessing state is written to JSON, bit-exactly. Vectors are JSON number arrays whose
 * values are the floats widened to double (every float is a double, and a JSON double parses back to
 * the same double, so any JSON reader gets the same float back). Matrices, which would be megabytes of
 * decimal text, are {@code {"dtype": "float32", "shape": [r, c], "base64": "..."}}: the little-endian
 * float32 values row by row, base64-encoded (RFC 4648), as safetensors would store them.
 */
final class JsonArrays {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private JsonArrays() {
    }

    static ArrayNode ints(int[] v) {
        ArrayNode a = F.arrayNode();
        for (int x : v) {
            a.add(x);
        }
        return a;
    }

    static ArrayNode floats(float[] v) {
        ArrayNode a = F.arrayNode();
        for (float x : v) {
            a.add((double) x);
        }
        return a;
    }

    static ArrayNode doubles(double[] v) {
        ArrayNode a = F.arrayNode();
        for (double x : v) {
            a.add(x);
        }
        return a;
    }

    static ObjectNode matrix(float[] data, int rows, int cols) {
        ByteBuffer b = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        ObjectNode o = F.objectNode();
        o.put("dtype", "float32");
        o.set("shape", ints(new int[] {rows, cols}));
        o.put("base64", Base64.getEncoder().encodeToString(b.array()));
        return o;
    }

    static JsonNode field(JsonNode o, String name) {
        JsonNode v = o.get(name);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("preprocessing " + o.path("type").asText("?") + ": missing field '" + name + "'");
        }
        return v;
    }

    static int[] readInts(JsonNode o, String name) {
        JsonNode a = field(o, name);
        if (!a.isArray()) {
            throw new IllegalArgumentException("preprocessing field '" + name + "' must be an array of integers");
        }
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) {
            if (!a.get(i).canConvertToInt()) {
                throw new IllegalArgumentException("preprocessing field '" + name + "'[" + i + "] is not an integer: " + a.get(i));
            }
            v[i] = a.get(i).intValue();
        }
        return v;
    }

    static float[] readFloats(JsonNode o, String name, int expectedLength) {
        JsonNode a = field(o, name);
        if (!a.isArray() || a.size() != expectedLength) {
            throw new IllegalArgumentException("preprocessing field '" + name + "' must be an array of " + expectedLength
                    + " numbers, got " + (a.isArray() ? a.size() + " values" : a.getNodeType().toString()));
        }
        float[] v = new float[expectedLength];
        for (int i = 0; i < v.length; i++) {
            if (!a.get(i).isNumber()) {
                throw new IllegalArgumentException("preprocessing field '" + name + "'[" + i + "] is not a number: " + a.get(i));
            }
            v[i] = (float) a.get(i).doubleValue();
        }
        return v;
    }

    static double[] readDoubles(JsonNode o, String name, int expectedLength) {
        JsonNode a = field(o, name);
        if (!a.isArray() || a.size() != expectedLength) {
            throw new IllegalArgumentException("preprocessing field '" + name + "' must be an array of " + expectedLength
                    + " numbers");
        }
        double[] v = new double[expectedLength];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).doubleValue();
        }
        return v;
    }

    static float[] readMatrix(JsonNode o, String name, int rows, int cols) {
        JsonNode m = field(o, name);
        int[] shape = readInts(m, "shape");
        if (!"float32".equals(m.path("dtype").asText()) || !Arrays.equals(shape, new int[] {rows, cols})) {
            throw new IllegalArgumentException("preprocessing field '" + name + "' must be a float32 matrix of shape ["
                    + rows + ", " + cols + "], got " + m.path("dtype").asText() + " " + Arrays.toString(shape));
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(field(m, "base64").asText());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("preprocessing field '" + name + "': bad base64 data: " + e.getMessage(), e);
        }
        if (bytes.length != 4L * rows * cols) {
            throw new IllegalArgumentException("preprocessing field '" + name + "': " + bytes.length + " bytes of data, "
                    + "expected " + 4L * rows * cols + " for [" + rows + ", " + cols + "] float32");
        }
        float[] v = new float[rows * cols];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }
}
