package dev.jtrain.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MnistTest {
    @TempDir
    Path tmp;

    @Test
    void bundledSetHasTheDocumentedCountsAndHistogram() throws Exception {
        Mnist.Split s = Mnist.load(IdxReaderTest.bundled());
        assertEquals(8000, s.train().size());
        assertEquals(2000, s.test().size());
        assertArrayEquals(new int[] {1, 28, 28}, s.train().sampleDims());
        assertArrayEquals(new int[] {803, 888, 795, 803, 798, 695, 832, 833, 766, 787}, s.train().classCounts());
        assertArrayEquals(new int[] {198, 239, 196, 229, 182, 168, 182, 237, 178, 191}, s.test().classCounts());
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float v : s.train().features()) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertEquals(0f, min);
        assertEquals(1f, max);
    }

    @Test
    void normalizerUsesTrainingStatistics() throws Exception {
        Mnist.Split s = Mnist.load(IdxReaderTest.bundled()).flattened();
        assertArrayEquals(new int[] {784}, s.train().sampleDims());
        Normalizer n = s.normalize();
        // MNIST's well-known statistics are 0.1307 / 0.3081; this subset is close to them
        assertEquals(0.1307, n.mean(), 0.01);
        assertEquals(0.3081, n.std(), 0.01);
        double sum = 0;
        double sq = 0;
        for (float v : s.train().features()) {
            sum += v;
            sq += (double) v * v;
        }
        int len = s.train().features().length;
        assertEquals(0.0, sum / len, 1e-5);
        assertEquals(1.0, Math.sqrt(sq / len), 1e-4);
    }

    private Path copyBundled() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("mnist"));
        try (var files = Files.list(IdxReaderTest.bundled())) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, dir.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return dir;
    }

    @Test
    void missingDirectoryIsNamed() {
        Path p = tmp.resolve("does-not-exist");
        DataFileException e = assertThrows(DataFileException.class, () -> Mnist.load(p));
        assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("not found"), e.getMessage());
    }

    @Test
    void missingFileIsNamed() throws Exception {
        Path dir = copyBundled();
        Files.delete(dir.resolve("t10k-labels-idx1-ubyte.gz"));
        DataFileException e = assertThrows(DataFileException.class, () -> Mnist.load(dir));
        assertTrue(e.getMessage().contains("t10k-labels-idx1-ubyte.gz"), e.getMessage());
        assertTrue(e.getMessage().contains("file not found"), e.getMessage());
    }

    @Test
    void plainFilesAreAcceptedToo() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("plain"));
        byte[] img = IdxReaderTest.idx(new int[] {2, 3, 3}, new byte[] {0, 0, 0, 0, (byte) 255, 0, 0, 0, 0,
                1, 1, 1, 1, 1, 1, 1, 1, 1});
        byte[] lab = IdxReaderTest.idx(new int[] {2}, new byte[] {3, 9});
        for (String p : new String[] {"train", "t10k"}) {
            Files.write(dir.resolve(p + "-images-idx3-ubyte"), img);
            Files.write(dir.resolve(p + "-labels-idx1-ubyte"), lab);
        }
        Mnist.Split s = Mnist.load(dir);
        assertEquals(2, s.train().size());
        assertEquals(1f, s.train().features()[4]);
        assertEquals(9L, s.test().labels()[1]);
    }

    @Test
    void labelImageCountMismatchIsReported() throws Exception {
        Path dir = copyBundled();
        Files.write(dir.resolve("t10k-labels-idx1-ubyte.gz"),
                IdxReaderTest.gzip(IdxReaderTest.idx(new int[] {1999}, new byte[1999])));
        DataFileException e = assertThrows(DataFileException.class, () -> Mnist.load(dir));
        assertTrue(e.getMessage().contains("count mismatch"), e.getMessage());
        assertTrue(e.getMessage().contains("1999 labels") && e.getMessage().contains("2000 images"), e.getMessage());
    }

    @Test
    void labelOutOfRangeIsReported() throws Exception {
        Path dir = copyBundled();
        byte[] labels = new byte[2000];
        labels[1234] = 12;
        Files.write(dir.resolve("t10k-labels-idx1-ubyte.gz"), IdxReaderTest.gzip(IdxReaderTest.idx(new int[] {2000}, labels)));
        DataFileException e = assertThrows(DataFileException.class, () -> Mnist.load(dir));
        assertTrue(e.getMessage().contains("label 12 at index 1234"), e.getMessage());
        assertTrue(e.getMessage().contains("out of range 0..9"), e.getMessage());
    }

    @Test
    void truncatedImagesAreReported() throws Exception {
        Path dir = copyBundled();
        Path f = dir.resolve("train-images-idx3-ubyte.gz");
        byte[] gz = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(gz, gz.length - 1000));
        DataFileException e = assertThrows(DataFileException.class, () -> Mnist.load(dir));
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte.gz"), e.getMessage());
        assertTrue(e.getMessage().contains("truncated data at byte offset"), e.getMessage());
    }
}
