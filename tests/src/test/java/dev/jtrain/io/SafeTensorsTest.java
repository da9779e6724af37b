package dev.jtrain.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The safetensors reader and writer: exact bytes of a small file, bit-exact round trips, and every corruption named. */
class SafeTensorsTest {
    private static final Path FILE = Path.of("t.safetensors");

    private static byte[] write(Map<String, Tensor> tensors, Map<String, String> meta) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SafeTensors.write(out, tensors, meta);
        return out.toByteArray();
    }

    /** A file assembled by hand as the format describes it (no padding), with {@code data} as the buffer. */
    private static byte[] handMade(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        return b.array();
    }

    private static byte[] floatsLE(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    @Test
    void writesTheDocumentedLayout() throws Exception {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("w", Tensor.of(new float[] {1f, -2f}, 2));
        m.put("n", Tensor.ofLongs(new long[] {7}));
        byte[] bytes = write(m, Map.of("format", "pt"));
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8, "header padded to 8 bytes");
        assertEquals(8 + n + 8 + 8, bytes.length);
        JsonNode h = new ObjectMapper().readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
        assertEquals("pt", h.get("__metadata__").get("format").asText());
        assertEquals("F32", h.get("w").get("dtype").asText());
        assertEquals("[2]", h.get("w").get("shape").toString());
        assertEquals("[0,8]", h.get("w").get("data_offsets").toString());
        assertEquals("I64", h.get("n").get("dtype").asText());
        assertEquals("[]", h.get("n").get("shape").toString(), "a scalar, as PyTorch saves num_batches_tracked");
        assertEquals("[8,16]", h.get("n").get("data_offsets").toString());
        int d = 8 + (int) n;
        // 1.0f = 0x3f800000, -2.0f = 0xc0000000, little-endian; then int64 7
        assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3f, 0, 0, 0, (byte) 0xc0, 7, 0, 0, 0, 0, 0, 0, 0},
                java.util.Arrays.copyOfRange(bytes, d, d + 16));
    }

    @Test
    void roundTripIsBitExact() throws Exception {
        float[] odd = {0f, -0f, Float.MIN_VALUE, -Float.MAX_VALUE, Float.intBitsToFloat(0x7fc01234), Float.NEGATIVE_INFINITY,
                1.17549435e-38f, 3.1415927f, 1e-45f};
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("a.weight", Tensor.of(odd, 3, 3));
        m.put("a.num_batches_tracked", Tensor.ofLongs(new long[] {Long.MIN_VALUE + 1}));
        m.put("empty", Tensor.of(new float[0], 0, 4));
        SafeTensors.Contents c = SafeTensors.read(write(m, Map.of()), FILE);
        assertEquals(List.of("a.weight", "a.num_batches_tracked", "empty"), List.copyOf(c.tensors().keySet()));
        Tensor a = c.tensors().get("a.weight");
        assertArrayEquals(new int[] {3, 3}, a.dims());
        for (int i = 0; i < odd.length; i++) {
            assertEquals(Float.floatToRawIntBits(odd[i]), Float.floatToRawIntBits(a.floats()[i]), "element " + i);
        }
        assertEquals(DType.INT64, c.tensors().get("a.num_batches_tracked").dtype());
        assertEquals(0, c.tensors().get("a.num_batches_tracked").rank());
        assertEquals(Long.MIN_VALUE + 1, c.tensors().get("a.num_batches_tracked").longs()[0]);
        assertArrayEquals(new int[] {0, 4}, c.tensors().get("empty").dims());
    }

    @Test
    void readsAHandMadeFileInOffsetOrder() throws Exception {
        // names out of offset order and no padding, as other writers may produce
        byte[] f = handMade("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", floatsLE(1.5f, 2.5f, -3f));
        SafeTensors.Contents c = SafeTensors.read(f, FILE);
        assertEquals(List.of("a", "b"), List.copyOf(c.tensors().keySet()));
        assertArrayEquals(new float[] {1.5f, 2.5f}, c.tensors().get("a").floats());
        assertArrayEquals(new float[] {-3f}, c.tensors().get("b").floats());
    }

    private static void assertError(byte[] bytes, String... words) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensors.read(bytes, FILE));
        assertTrue(e.getMessage().startsWith("t.safetensors: "), e.getMessage());
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "'" + w + "' missing in: " + e.getMessage());
        }
    }

    @Test
    void namesEveryCorruption() throws Exception {
        String one = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        byte[] good = handMade(one, floatsLE(1, 2));
        SafeTensors.read(good, FILE);

        assertError(new byte[5], "truncated", "5 bytes");
        byte[] hugeLength = good.clone();
        hugeLength[7] = 0x7f;
        assertError(hugeLength, "header length", "byte offset 0");
        assertError(java.util.Arrays.copyOf(good, 20), "truncated", "header runs to byte offset");
        assertError(java.util.Arrays.copyOf(good, good.length - 1), "tensor a", "end past the data");
        assertError(handMade(one, floatsLE(1, 2, 3)), "4 bytes after the last tensor", "file byte offset " + (8 + one.length() + 8));
        assertError(handMade("[1,2]", new byte[0]), "does not start with '{'");
        assertError(handMade("{\"a\":", new byte[0]), "JSON header", "not valid");
        assertError(handMade("{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[4]),
                "tensor a", "BF16", "not supported");
        assertError(handMade("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", floatsLE(1, 2)),
                "tensor a", "hold 8 bytes", "needs 12");
        assertError(handMade("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", floatsLE(1, 2)),
                "data bytes 0..4", "belong to no tensor");
        assertError(handMade("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", floatsLE(1, 2)), "overlaps");
        assertError(handMade("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", floatsLE(1, 2)), "Duplicate", "a");
        assertError(handMade("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", floatsLE(1, 2)),
                "tensor a", "bad dimension");
        assertError(handMade("{\"__metadata__\":{\"k\":1},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                floatsLE(1, 2)), "__metadata__.k must be a string");
    }
}
