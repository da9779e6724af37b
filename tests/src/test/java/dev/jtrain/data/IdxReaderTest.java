package dev.jtrain.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxReaderTest {
    @TempDir
    Path tmp;

    static Path bundled() {
        String root = System.getProperty("jtrain.root", ".");
        return Path.of(root, "data", "mnist-10k");
    }

    /** An IDX file: magic 0x0000 08 rank, dims, then data. */
    static byte[] idx(int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(0x00000800 | dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(data);
        return b.array();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (OutputStream o = new GZIPOutputStream(bos)) {
            o.write(raw);
        }
        return bos.toByteArray();
    }

    @Test
    void readsBundledImagesAndLabels() throws Exception {
        IdxReader.IdxFile images = IdxReader.readImages(bundled().resolve("train-images-idx3-ubyte.gz"));
        assertArrayEquals(new int[] {8000, 28, 28}, images.dims());
        assertEquals(8000 * 784, images.data().length);
        IdxReader.IdxFile labels = IdxReader.readLabels(bundled().resolve("t10k-labels-idx1-ubyte.gz"));
        assertArrayEquals(new int[] {2000}, labels.dims());
    }

    @Test
    void plainAndGzipGiveTheSameContents() throws Exception {
        byte[] data = new byte[3 * 2 * 2];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 20);
        }
        byte[] raw = idx(new int[] {3, 2, 2}, data);
        Path plain = Files.write(tmp.resolve("plain-idx3-ubyte"), raw);
        Path gz = Files.write(tmp.resolve("zipped.gz"), gzip(raw));
        IdxReader.IdxFile a = IdxReader.readImages(plain);
        IdxReader.IdxFile b = IdxReader.readImages(gz);
        assertArrayEquals(a.data(), b.data());
        assertArrayEquals(data, a.data());
        assertEquals(220, a.unsigned(11));
    }

    @Test
    void missingFileIsNamed() {
        Path p = tmp.resolve("nope-idx1-ubyte.gz");
        DataFileException e = assertThrows(DataFileException.class, () -> IdxReader.readLabels(p));
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("file not found"), e.getMessage());
    }

    @Test
    void badMagicIsReported() throws Exception {
        Path p = Files.write(tmp.resolve("bad.idx"), "hello world, not idx".getBytes());
        DataFileException e = assertThrows(DataFileException.class, () -> IdxReader.readImages(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("bad magic number 0x68656c6c"), e.getMessage());
        assertTrue(e.getMessage().contains("0x00000803"), e.getMessage());
    }

    @Test
    void wrongRankIsBadMagic() throws Exception {
        Path p = Files.write(tmp.resolve("labels-as-images"), idx(new int[] {4}, new byte[4]));
        DataFileException e = assertThrows(DataFileException.class, () -> IdxReader.readImages(p));
        assertTrue(e.getMessage().contains("bad magic number 0x00000801"), e.getMessage());
    }

    @Test
    void unsupportedElementTypeIsBadMagic() throws Exception {
        byte[] raw = idx(new int[] {2}, new byte[2]);
        raw[2] = 0x0D; // float
        Path p = Files.write(tmp.resolve("floats"), raw);
        DataFileException e = assertThrows(DataFileException.class, () -> IdxReader.readLabels(p));
        assertTrue(e.getMessage().contains("bad magic number 0x00000d01"), e.getMessage());
        assertTrue(e.getMessage().contains("element type 0x0d"), e.getMessage());
    }

    @Test
    void truncatedPlainFileGivesTheOffset() throws Exception {
        byte[] raw = idx(new int[] {10, 28, 28}, new byte[10 * 784]);
        Path p = Files.write(tmp.resolve("short-idx3-ubyte"), Arrays.copyOf(raw, 16 + 5 * 784 + 3));
        DataFileException e = assertThrows(DataFileException.class, () -> IdxReader.readImages(p));
        assertTrue(e.getMessage().contains("truncated data at byte offset " + (16 + 5 * 784 + 3)), e.getMessage());
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    }

    @Test
    void truncatedHeaderGivesTheOffset() throws Exception {
        Path p = Files.write(tmp.resolve("head"), Arrays.copyOf(idx(new int[] {10, 28, 28}, new byte[0]), 9));
        DataFileException e = assertThrows(DataFileException.class, () -> IdxReader.readImages(p));
        assertTrue(e.getMessage().contains("truncated data at byte offset 9"), e.getMessage());
    }

    @Test
    void truncatedGzipStreamIsReported() throws Exception {
        byte[] raw = idx(new int[] {50, 28, 28}, randomBytes(50 * 784));
        byte[] gz = gzip(raw);
        Path p = Files.write(tmp.resolve("cut.gz"), Arrays.copyOf(gz, gz.length / 2));
        DataFileException e = assertThrows(DataFileException.class, () -> IdxReader.readImages(p));
        assertTrue(e.getMessage().contains("truncated data at byte offset"), e.getMessage());
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    }

    @Test
    void corruptGzipChecksumIsReported() throws Exception {
        byte[] gz = gzip(idx(new int[] {50, 28, 28}, randomBytes(50 * 784)));
        gz[gz.length - 6] ^= 0x5a; // inside the CRC-32 of the trailer
        Path p = Files.write(tmp.resolve("corrupt.gz"), gz);
        DataFileException e = assertThrows(DataFileException.class, () -> IdxReader.readImages(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("corrupt gzip data"), e.getMessage());
    }

    @Test
    void scrambledGzipGivesAOneLineError() throws Exception {
        byte[] gz = gzip(idx(new int[] {50, 28, 28}, randomBytes(50 * 784)));
        for (int i = 20; i < gz.length - 20; i += 7) {
            gz[i] ^= 0x5a;
        }
        Path p = Files.write(tmp.resolve("scrambled.gz"), gz);
        DataFileException e = assertThrows(DataFileException.class, () -> IdxReader.readImages(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void hugeHeaderFailsAsTruncatedWithoutAllocatingIt() throws Exception {
        Path p = Files.write(tmp.resolve("huge"), idx(new int[] {2_000_000, 32, 32}, new byte[100]));
        DataFileException e = assertThrows(DataFileException.class, () -> IdxReader.readImages(p));
        assertTrue(e.getMessage().contains("truncated data at byte offset 116"), e.getMessage());
    }

    @Test
    void extraBytesAreReported() throws Exception {
        byte[] raw = idx(new int[] {3}, new byte[] {1, 2, 3});
        Path p = Files.write(tmp.resolve("long"), Arrays.copyOf(raw, raw.length + 2));
        DataFileException e = assertThrows(DataFileException.class, () -> IdxReader.readLabels(p));
        assertTrue(e.getMessage().contains("extra data at byte offset 11"), e.getMessage());
    }

    @Test
    void emptyFileIsReported() throws Exception {
        Path p = Files.write(tmp.resolve("empty"), new byte[0]);
        DataFileException e = assertThrows(DataFileException.class, () -> IdxReader.readLabels(p));
        assertTrue(e.getMessage().contains("empty file"), e.getMessage());
    }

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new java.util.Random(1).nextBytes(b);
        return b;
    }
}
