package dev.jtrain.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CIFAR-10 binary loader and the format detection of a --data folder, on small files in the exact format. */
class Cifar10Test {
    @TempDir
    Path tmp;

    /** Record r of a file tagged t: label (t + r) % 10, pixel k = (7 * k + 13 * r + 31 * t) % 256. */
    static byte[] record(int t, int r) {
        byte[] b = new byte[Cifar10.RECORD_BYTES];
        b[0] = (byte) ((t + r) % 10);
        for (int k = 0; k < Cifar10.PIXELS; k++) {
            b[1 + k] = (byte) ((7 * k + 13 * r + 31 * t) % 256);
        }
        return b;
    }

    static byte[] file(int t, int records) {
        byte[] all = new byte[records * Cifar10.RECORD_BYTES];
        for (int r = 0; r < records; r++) {
            System.arraycopy(record(t, r), 0, all, r * Cifar10.RECORD_BYTES, Cifar10.RECORD_BYTES);
        }
        return all;
    }

    /** A CIFAR-10 folder: data_batch_1..batches with 3 + i records each, test_batch with 4. */
    static Path writeFolder(Path dir, int batches) throws IOException {
        Files.createDirectories(dir);
        for (int i = 1; i <= batches; i++) {
            Files.write(dir.resolve(Cifar10.trainFile(i)), file(i, 3 + i));
        }
        Files.write(dir.resolve(Cifar10.TEST_FILE), file(0, 4));
        return dir;
    }

    @Test
    void readsRecordsAsRgbPlanesScaledToUnitRange() throws Exception {
        Path dir = writeFolder(tmp.resolve("c"), 5);
        Mnist.Split s = Cifar10.load(dir);
        assertEquals(4 + 5 + 6 + 7 + 8, s.train().size());
        assertEquals(4, s.test().size());
        assertArrayEquals(new int[] {3, 32, 32}, s.train().sampleDims());
        assertEquals(10, s.train().numClasses());
        // Training sample 4 is record 0 of data_batch_2 (batch 1 holds 4 records).
        int i = 4;
        byte[] rec = record(2, 0);
        assertEquals(rec[0], s.train().labels()[i]);
        float[] x = s.train().features();
        int o = i * Cifar10.PIXELS;
        // Red plane first, row by row: pixel (c, y, x) is byte 1 + c*1024 + y*32 + x of the record.
        for (int[] cyx : new int[][] {{0, 0, 0}, {0, 0, 31}, {0, 5, 7}, {1, 0, 0}, {1, 17, 3}, {2, 31, 31}}) {
            int k = cyx[0] * 1024 + cyx[1] * 32 + cyx[2];
            assertEquals((rec[1 + k] & 0xff) / 255f, x[o + k], Arrays.toString(cyx));
        }
        assertEquals(record(0, 3)[0], s.test().labels()[3]);
        assertEquals((record(0, 3)[1 + 2047] & 0xff) / 255f, s.test().features()[3 * Cifar10.PIXELS + 2047]);
    }

    @Test
    void detectsTheFormatOfAFolder() throws Exception {
        Path c = writeFolder(tmp.resolve("cifar"), 2);
        DataFolder.Loaded l = DataFolder.load(c);
        assertEquals(DataFolder.Format.CIFAR10_BINARY, l.format());
        assertEquals(4 + 5, l.train().size());
        assertTrue(l.train().name().contains("2 of 5"), l.train().name());

        // The parent of the extracted cifar-10-batches-bin folder works too.
        writeFolder(tmp.resolve("parent").resolve("cifar-10-batches-bin"), 1);
        DataFolder.Loaded p = DataFolder.load(tmp.resolve("parent"));
        assertEquals(DataFolder.Format.CIFAR10_BINARY, p.format());
        assertEquals(tmp.resolve("parent").resolve("cifar-10-batches-bin"), p.dir());

        Path mnist = Path.of(System.getProperty("jtrain.root", "."), "data", "mnist-10k");
        DataFolder.Loaded m = DataFolder.load(mnist);
        assertEquals(DataFolder.Format.MNIST_IDX, m.format());
        assertArrayEquals(new int[] {1, 28, 28}, m.train().sampleDims());

        Path empty = Files.createDirectory(tmp.resolve("empty"));
        DataFileException e = assertThrows(DataFileException.class, () -> DataFolder.load(empty));
        assertTrue(e.getMessage().startsWith(empty.toString()) && e.getMessage().contains("data_batch_1.bin")
                && e.getMessage().contains("train-images-idx3-ubyte"), e.getMessage());
    }

    @Test
    void truncatedFileNamesTheFileAndTheOffsetOfTheIncompleteRecord() throws Exception {
        Path dir = writeFolder(tmp.resolve("t"), 2);
        byte[] b = file(2, 5);
        Path f = dir.resolve(Cifar10.trainFile(2));
        Files.write(f, Arrays.copyOf(b, 3 * Cifar10.RECORD_BYTES + 100));
        DataFileException e = assertThrows(DataFileException.class, () -> DataFolder.load(dir));
        assertEquals(f, e.file());
        assertTrue(e.getMessage().startsWith(f + ": truncated record at byte offset " + 3 * Cifar10.RECORD_BYTES + ":"),
                e.getMessage());
        assertTrue(e.getMessage().contains("record 3 has 100 of its 3073 bytes"), e.getMessage());

        Files.write(f, new byte[0]);
        e = assertThrows(DataFileException.class, () -> Cifar10.load(dir));
        assertTrue(e.getMessage().startsWith(f + ": empty file"), e.getMessage());
    }

    @Test
    void corruptLabelNamesTheRecordAndItsOffset() throws Exception {
        Path dir = writeFolder(tmp.resolve("l"), 1);
        byte[] b = file(0, 4);
        b[2 * Cifar10.RECORD_BYTES] = (byte) 200;
        Path f = dir.resolve(Cifar10.TEST_FILE);
        Files.write(f, b);
        DataFileException e = assertThrows(DataFileException.class, () -> Cifar10.load(dir));
        assertEquals(f + ": corrupt record 2: label byte 200 at byte offset " + 2 * Cifar10.RECORD_BYTES
                + " is outside 0..9", e.getMessage());
    }

    @Test
    void missingTestOrTrainingFilesAreNamed() throws Exception {
        Path dir = writeFolder(tmp.resolve("m"), 1);
        Files.delete(dir.resolve(Cifar10.TEST_FILE));
        DataFileException e = assertThrows(DataFileException.class, () -> DataFolder.load(dir));
        assertEquals(dir.resolve(Cifar10.TEST_FILE), e.file());
        assertTrue(e.getMessage().contains("not found"), e.getMessage());

        Path onlyTest = Files.createDirectory(tmp.resolve("only-test"));
        Files.write(onlyTest.resolve(Cifar10.TEST_FILE), file(0, 2));
        e = assertThrows(DataFileException.class, () -> DataFolder.load(onlyTest));
        assertEquals(onlyTest.resolve("data_batch_1.bin"), e.file());
    }

    @Test
    void readConcatenatesFilesInOrder() throws Exception {
        Path a = tmp.resolve("a.bin");
        Path b = tmp.resolve("b.bin");
        Files.write(a, file(1, 2));
        Files.write(b, file(2, 1));
        Dataset d = Cifar10.read(List.of(a, b), "two");
        assertArrayEquals(new long[] {1, 2, 2}, d.labels());
        assertEquals((record(2, 0)[1] & 0xff) / 255f, d.features()[2 * Cifar10.PIXELS]);
    }
}
