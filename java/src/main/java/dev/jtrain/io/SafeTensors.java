package dev.jtrain.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (Hugging Face's; what {@code safetensors.torch.save_file} writes and
 * {@code load_file} reads): 8 bytes N, a little-endian unsigned 64-bit header length; N bytes of UTF-8 JSON,
 * an object mapping each tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} plus an
 * optional {@code "__metadata__"} object of strings; then the data buffer, each tensor's elements row-major
 * and little-endian at [begin, end) of the buffer (offsets relative to its start). The buffer must be
 * covered exactly: no holes, no overlaps, nothing after the last tensor.
 *
 * <p>jtrain writes and reads the dtypes it has: {@code F32} (float32) and {@code I64} (int64; e.g.
 * BatchNorm's {@code num_batches_tracked}, shape [] as PyTorch saves it). The writer pads the header with
 * spaces to a multiple of 8 bytes (as the reference writer does) so the data are 8-byte aligned; the reader
 * accepts any padding. Every check names the file and the tensor or byte offset that is wrong.
 */
public final class SafeTensors {
    /** The reference implementation's limit on the header; larger is taken as a corrupt length. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    public static final String METADATA_KEY = "__metadata__";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private SafeTensors() {
    }

    /** A file's tensors (cpu tensors, in data-offset order) and its metadata strings. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
    }

    /** The format's name of a jtrain dtype. */
    public static String dtypeName(DType t) {
        return switch (t) {
            case FLOAT32 -> "F32";
            case INT64 -> "I64";
        };
    }

    /**
     * Writes {@code tensors} (on any device; non-cpu ones are copied to the host, a counted transfer) in the
     * map's order, with {@code metadata} (may be empty) as {@code __metadata__}. Does not close {@code out}.
     */
    public static void write(OutputStream out, Map<String, Tensor> tensors, Map<String, String> metadata)
            throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject(METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) {
                throw new IllegalArgumentException("a tensor cannot be named " + METADATA_KEY);
            }
            Tensor t = e.getValue();
            long bytes = (long) t.numel() * t.dtype().bytes();
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", dtypeName(t.dtype()));
            ArrayNode shape = entry.putArray("shape");
            for (int d : t.dims()) {
                shape.add(d);
            }
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        out.write(head.array());
        ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (Tensor t : tensors.values()) {
            Tensor host = t.to(Device.CPU);
            try {
                writeData(out, host, chunk);
            } finally {
                if (host != t) {
                    host.close();
                }
            }
        }
    }

    private static void writeData(OutputStream out, Tensor t, ByteBuffer chunk) throws IOException {
        int n = t.numel();
        chunk.clear();
        if (t.dtype() == DType.FLOAT32) {
            float[] a = t.floats();
            for (int i = 0; i < n; i++) {
                if (chunk.remaining() < 4) {
                    flush(out, chunk);
                }
                chunk.putFloat(a[i]); // raw bits: NaN payloads and -0 survive
            }
        } else {
            long[] a = t.longs();
            for (int i = 0; i < n; i++) {
                if (chunk.remaining() < 8) {
                    flush(out, chunk);
                }
                chunk.putLong(a[i]);
            }
        }
        flush(out, chunk);
    }

    private static void flush(OutputStream out, ByteBuffer chunk) throws IOException {
        out.write(chunk.array(), 0, chunk.position());
        chunk.clear();
    }

    /** Reads and checks a whole file. */
    public static Contents read(Path file) throws CheckpointException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "no such file");
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot read: " + e.getMessage(), e);
        }
        return read(bytes, file);
    }

    /** Parses {@code bytes} (the contents of {@code file}, named in errors). */
    public static Contents read(byte[] bytes, Path file) throws CheckpointException {
        if (bytes.length < 8) {
            throw new CheckpointException(file, "truncated: " + bytes.length
                    + " bytes, a safetensors file starts with an 8-byte header length");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong(0);
        if (n < 2 || n > MAX_HEADER_BYTES) {
            throw new CheckpointException(file, "header length " + Long.toUnsignedString(n)
                    + " at byte offset 0 is not a plausible safetensors header length (2.." + MAX_HEADER_BYTES + ")");
        }
        if (8 + n > bytes.length) {
            throw new CheckpointException(file, "truncated: the header runs to byte offset " + (8 + n)
                    + " but the file has " + bytes.length + " bytes");
        }
        int dataStart = (int) (8 + n);
        if (bytes[8] != '{') {
            throw new CheckpointException(file, "the header at byte offset 8 does not start with '{'");
        }
        JsonNode header;
        try {
            header = JSON.readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file, "the JSON header (byte offsets 8.." + dataStart + ") is not valid: "
                    + e.getOriginalMessage());
        }
        if (header == null || !header.isObject()) {
            throw new CheckpointException(file, "the JSON header (byte offsets 8.." + dataStart + ") is not an object");
        }
        long dataBytes = bytes.length - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equals(METADATA_KEY)) {
                readMetadata(file, f.getValue(), metadata);
            } else {
                entries.add(entry(file, f.getKey(), f.getValue(), dataBytes, dataStart));
            }
        }
        entries.sort(Comparator.comparingLong(Entry::begin));
        long expected = 0;
        Entry prev = null;
        for (Entry e : entries) {
            if (e.begin < expected) {
                throw new CheckpointException(file, "tensor " + e.name + " (data_offsets [" + e.begin + ", " + e.end
                        + "]) overlaps tensor " + prev.name + " (data_offsets [" + prev.begin + ", " + prev.end + "])");
            }
            if (e.begin > expected) {
                throw new CheckpointException(file, "data bytes " + expected + ".." + e.begin + " (file byte offset "
                        + (dataStart + expected) + ") belong to no tensor (the data buffer must be covered exactly)");
            }
            expected = e.end;
            prev = e;
        }
        if (expected != dataBytes) {
            throw new CheckpointException(file, (dataBytes - expected) + " bytes after the last tensor, from file byte offset "
                    + (dataStart + expected) + " (the data buffer must be covered exactly)");
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries) {
            tensors.put(e.name, e.decode(buf, dataStart));
        }
        return new Contents(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static void readMetadata(Path file, JsonNode meta, Map<String, String> out) throws CheckpointException {
        if (!meta.isObject()) {
            throw new CheckpointException(file, METADATA_KEY + " must be an object of strings, got " + meta.getNodeType());
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = meta.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> m = it.next();
            if (!m.getValue().isTextual()) {
                throw new CheckpointException(file, METADATA_KEY + "." + m.getKey() + " must be a string, got "
                        + m.getValue().getNodeType());
            }
            out.put(m.getKey(), m.getValue().textValue());
        }
    }

    private record Entry(String name, DType dtype, int[] shape, long begin, long end) {
        Tensor decode(ByteBuffer buf, int dataStart) {
            int numel = (int) ((end - begin) / dtype.bytes());
            int at = dataStart + (int) begin;
            if (dtype == DType.FLOAT32) {
                float[] a = new float[numel];
                buf.slice(at, numel * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(a);
                return Tensor.of(a, shape);
            }
            long[] a = new long[numel];
            buf.slice(at, numel * 8).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(a);
            return Tensor.ofLongs(a, shape);
        }
    }

    private static Entry entry(Path file, String name, JsonNode e, long dataBytes, int dataStart) throws CheckpointException {
        String where = "tensor " + name;
        if (!e.isObject()) {
            throw new CheckpointException(file, where + ": the header entry must be an object, got " + e.getNodeType());
        }
        JsonNode dt = e.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw new CheckpointException(file, where + ": missing or non-string \"dtype\"");
        }
        DType dtype = switch (dt.textValue()) {
            case "F32" -> DType.FLOAT32;
            case "I64" -> DType.INT64;
            default -> throw new CheckpointException(file, where + ": dtype " + dt.textValue()
                    + " is not supported (jtrain reads F32 and I64)");
        };
        JsonNode sh = e.get("shape");
        if (sh == null || !sh.isArray()) {
            throw new CheckpointException(file, where + ": missing or non-array \"shape\"");
        }
        int[] shape = new int[sh.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.longValue() < 0 || d.longValue() > Integer.MAX_VALUE) {
                throw new CheckpointException(file, where + ": shape " + sh + " has a bad dimension at axis " + i);
            }
            shape[i] = (int) d.longValue();
            numel *= shape[i];
            if (numel > Integer.MAX_VALUE - 8) {
                throw new CheckpointException(file, where + ": shape " + sh + " has more elements than jtrain can hold");
            }
        }
        JsonNode off = e.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber()) {
            throw new CheckpointException(file, where + ": \"data_offsets\" must be [begin, end], got " + off);
        }
        long begin = off.get(0).longValue();
        long end = off.get(1).longValue();
        if (begin < 0 || end < begin) {
            throw new CheckpointException(file, where + ": data_offsets [" + begin + ", " + end + "] are not a range");
        }
        if (end > dataBytes) {
            throw new CheckpointException(file, where + ": data_offsets [" + begin + ", " + end + "] end past the data ("
                    + dataBytes + " bytes from file byte offset " + dataStart + "; the file is truncated or the header wrong)");
        }
        long need = numel * dtype.bytes();
        if (end - begin != need) {
            throw new CheckpointException(file, where + ": data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes, dtype " + dt.textValue() + " shape " + Arrays.toString(shape) + " needs " + need);
        }
        return new Entry(name, dtype, shape, begin, end);
    }
}
