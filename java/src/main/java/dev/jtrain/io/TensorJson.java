package dev.jtrain.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A tensor inside a checkpoint's sidecar: {@code {"dtype": "F32"|"I64", "shape": [...], "data": base64 of the
 * little-endian bytes}}, so values come back bit for bit. The training state that is not a model weight (optimizer
 * moments, the EMA's training weights, early stopping's best weights) is kept this way, next to the weights file
 * rather than in it, so a PyTorch model still loads the weights file with {@code strict=True}. Each section keeps a
 * SHA-256 over its tensors' bytes (in order) that the caller feeds with {@link #sha256()}.
 */
final class TensorJson {
    private TensorJson() {
    }

    /** Writes {@code t} (any device; a host copy is made and released) into {@code o}, and its bytes into the digest. */
    static void put(ObjectNode o, Tensor t, MessageDigest digest) {
        Tensor host = t.to(Device.CPU);
        byte[] bytes = toBytes(host);
        digest.update(bytes);
        o.put("dtype", SafeTensors.dtypeName(host.dtype()));
        var shape = o.putArray("shape");
        for (int d : host.dims()) {
            shape.add(d);
        }
        o.put("data", bytes); // Jackson writes byte[] as base64
        if (host != t) {
            host.close();
        }
    }

    /** The host tensor that {@link #put} wrote; errors name {@code where} in {@code sidecar}. */
    static Tensor read(JsonNode t, String where, Path sidecar, MessageDigest digest) throws CheckpointException {
        String dtype = t.path("dtype").asText();
        if (!dtype.equals("F32") && !dtype.equals("I64")) {
            throw new CheckpointException(sidecar, where + ": dtype '" + dtype + "' is not F32 or I64");
        }
        JsonNode sh = t.path("shape");
        if (!sh.isArray()) {
            throw new CheckpointException(sidecar, where + ": missing shape");
        }
        int[] dims = new int[sh.size()];
        for (int i = 0; i < dims.length; i++) {
            if (!sh.get(i).canConvertToInt() || sh.get(i).asInt() < 0) {
                throw new CheckpointException(sidecar, where + ": bad shape " + sh);
            }
            dims[i] = sh.get(i).asInt();
        }
        byte[] bytes;
        try {
            bytes = t.path("data").binaryValue();
        } catch (java.io.IOException e) {
            throw new CheckpointException(sidecar, where + ": data is not base64: " + e.getMessage());
        }
        DType dt = dtype.equals("F32") ? DType.FLOAT32 : DType.INT64;
        long need = (long) Shape.of(dims).numel() * dt.bytes();
        if (bytes == null || bytes.length != need) {
            throw new CheckpointException(sidecar, where + ": " + (bytes == null ? 0 : bytes.length) + " data bytes, "
                    + dtype + " " + Shape.of(dims) + " needs " + need);
        }
        digest.update(bytes);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (dt == DType.FLOAT32) {
            float[] a = new float[bytes.length / 4];
            b.asFloatBuffer().get(a);
            return Tensor.of(a, dims);
        }
        long[] a = new long[bytes.length / 8];
        b.asLongBuffer().get(a);
        return Tensor.ofLongs(a, dims);
    }

    /**
     * Writes named tensors as {@code parent[key] = {name: tensor, ...}} and {@code parent[key + "_sha256"]}, the
     * SHA-256 of their bytes in order.
     */
    static void putAll(ObjectNode parent, String key, Map<String, Tensor> tensors) {
        MessageDigest digest = sha256();
        ObjectNode o = parent.putObject(key);
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            put(o.putObject(e.getKey()), e.getValue(), digest);
        }
        parent.put(key + "_sha256", HexFormat.of().formatHex(digest.digest()));
    }

    /** The named host tensors {@link #putAll} wrote, checked against the checksum; errors name {@code section.key}. */
    static Map<String, Tensor> readAll(JsonNode parent, String section, String key, Path sidecar)
            throws CheckpointException {
        JsonNode o = parent.path(key);
        if (!o.isObject()) {
            throw new CheckpointException(sidecar, section + "." + key + ": missing (expected an object of tensors)");
        }
        MessageDigest digest = sha256();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), read(e.getValue(), section + "." + key + "." + e.getKey(), sidecar, digest));
        }
        String sum = HexFormat.of().formatHex(digest.digest());
        if (!sum.equals(parent.path(key + "_sha256").asText())) {
            throw new CheckpointException(sidecar, section + "." + key + ": SHA-256 " + sum + " differs from "
                    + section + "." + key + "_sha256 " + parent.path(key + "_sha256").asText() + " (corrupt sidecar)");
        }
        return out;
    }

    private static byte[] toBytes(Tensor host) {
        int n = host.numel();
        ByteBuffer b = ByteBuffer.allocate(n * host.dtype().bytes()).order(ByteOrder.LITTLE_ENDIAN);
        if (host.dtype() == DType.FLOAT32) {
            b.asFloatBuffer().put(host.floats(), 0, n);
        } else {
            b.asLongBuffer().put(host.longs(), 0, n);
        }
        return b.array();
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }
}
