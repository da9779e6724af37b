package dev.jtrain.data;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads the CIFAR-10 binary version (the extracted {@code cifar-10-batches-bin} folder):
 * {@code data_batch_1.bin} ... {@code data_batch_5.bin} (training, in that order; those present are
 * used) and {@code test_batch.bin}. Each file is a sequence of 3,073-byte records: one label byte
 * (0..9), then 3,072 pixel bytes, the 32x32 red plane, then green, then blue, each row by row.
 * Pixels become float32 in [0, 1] (byte / 255); samples have shape [3, 32, 32] (NCHW, like
 * torchvision's {@code ToTensor}); labels are int64.
 */
public final class Cifar10 {
    public static final int CLASSES = 10;
    public static final int CHANNELS = 3;
    public static final int SIDE = 32;
    public static final int PIXELS = CHANNELS * SIDE * SIDE;
    /** Bytes per record: one label byte and 3,072 pixel bytes. */
    public static final int RECORD_BYTES = 1 + PIXELS;
    public static final int TRAIN_BATCHES = 5;
    public static final String TEST_FILE = "test_batch.bin";

    private Cifar10() {
    }

    /** {@code data_batch_<i>.bin}, i = 1..5. */
    public static String trainFile(int i) {
        return "data_batch_" + i + ".bin";
    }

    /** Whether {@code dir} holds CIFAR-10 binary files (a test batch or any training batch). */
    public static boolean looksLike(Path dir) {
        if (Files.isRegularFile(dir.resolve(TEST_FILE))) {
            return true;
        }
        for (int i = 1; i <= TRAIN_BATCHES; i++) {
            if (Files.isRegularFile(dir.resolve(trainFile(i)))) {
                return true;
            }
        }
        return false;
    }

    /** Loads the training batches present and the test batch of {@code dir}. */
    public static Mnist.Split load(Path dir) throws DataFileException {
        if (!Files.isDirectory(dir)) {
            throw new DataFileException(dir, Files.exists(dir) ? "is not a directory (expected a CIFAR-10 folder)"
                    : "data directory not found");
        }
        List<Path> trainFiles = new ArrayList<>();
        for (int i = 1; i <= TRAIN_BATCHES; i++) {
            Path p = dir.resolve(trainFile(i));
            if (Files.isRegularFile(p)) {
                trainFiles.add(p);
            }
        }
        if (trainFiles.isEmpty()) {
            throw new DataFileException(dir.resolve(trainFile(1)), "file not found (CIFAR-10 training batches "
                    + trainFile(1) + " ... " + trainFile(TRAIN_BATCHES) + ")");
        }
        Path testFile = dir.resolve(TEST_FILE);
        if (!Files.isRegularFile(testFile)) {
            throw new DataFileException(testFile, "file not found (the CIFAR-10 test batch)");
        }
        String trainName = trainFiles.size() == TRAIN_BATCHES ? "cifar-10 train"
                : "cifar-10 train (" + trainFiles.size() + " of " + TRAIN_BATCHES + " batches)";
        return new Mnist.Split(read(trainFiles, trainName), read(List.of(testFile), "cifar-10 test"));
    }

    /** Reads and concatenates the records of {@code files}. */
    public static Dataset read(List<Path> files, String name) throws DataFileException {
        List<byte[]> contents = new ArrayList<>();
        long records = 0;
        for (Path f : files) {
            byte[] b = readFile(f);
            check(f, b);
            contents.add(b);
            records += b.length / RECORD_BYTES;
        }
        if (records * PIXELS > Integer.MAX_VALUE - 8) {
            throw new DataFileException(files.get(0), records + " records do not fit in one float array");
        }
        int n = (int) records;
        float[] x = new float[n * PIXELS];
        long[] y = new long[n];
        int r = 0;
        for (byte[] b : contents) {
            for (int off = 0; off < b.length; off += RECORD_BYTES, r++) {
                y[r] = b[off];
                int dst = r * PIXELS;
                for (int k = 0; k < PIXELS; k++) {
                    x[dst + k] = (b[off + 1 + k] & 0xff) / 255f;
                }
            }
        }
        return new Dataset(name, x, new int[] {CHANNELS, SIDE, SIDE}, y, CLASSES);
    }

    /** Whole records only, each label in 0..9; the error names the byte offset of the bad record. */
    private static void check(Path f, byte[] b) throws DataFileException {
        if (b.length == 0) {
            throw new DataFileException(f, "empty file, expected CIFAR-10 records of " + RECORD_BYTES + " bytes");
        }
        int whole = b.length / RECORD_BYTES;
        int rest = b.length % RECORD_BYTES;
        if (rest != 0) {
            throw new DataFileException(f, "truncated record at byte offset " + (long) whole * RECORD_BYTES
                    + ": record " + whole + " has " + rest + " of its " + RECORD_BYTES + " bytes (file of " + b.length
                    + " bytes, " + whole + " whole records)");
        }
        for (int r = 0; r < whole; r++) {
            int label = b[r * RECORD_BYTES] & 0xff;
            if (label >= CLASSES) {
                throw new DataFileException(f, "corrupt record " + r + ": label byte " + label + " at byte offset "
                        + (long) r * RECORD_BYTES + " is outside 0.." + (CLASSES - 1));
            }
        }
    }

    private static byte[] readFile(Path f) throws DataFileException {
        try {
            return Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            throw new DataFileException(f, "file not found", e);
        } catch (AccessDeniedException e) {
            throw new DataFileException(f, "permission denied", e);
        } catch (IOException | OutOfMemoryError e) {
            throw new DataFileException(f, "cannot read: " + e, e);
        }
    }
}
