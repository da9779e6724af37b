package dev.jtrain.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jtrain.data.Cifar10;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code jtrain train} with the data options: --val-split, --preprocess, --augment, and a CIFAR-10 folder. */
class TrainCommandDataTest {
    @TempDir
    Path tmp;




    static JsonNode json(Path p) throws Exception {
        return new ObjectMapper().readTree(p.toFile());
    }

    @Test
    void validationSplitIsReportedPerEpoch() throws Exception {
        Path m = tmp.resolve("v.json");
        TrainCommandTest.Result r = TrainCommandTest.run("--epochs", "2", "--model", "mlp", "--optimizer", "sgd", "--dropout", "0", "--hidden", "16", "--batch", "32", "--train-limit", "500",
                "--test-limit", "100", "--threads", "1", "--val-split", "0.2", "--metrics-out", m.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("400 train, 100 validation, 100 test"), r.out());
        List<String> lines = r.out().lines().filter(l -> l.startsWith("epoch ")).toList();
        assertTrue(lines.get(1).matches("epoch 2/2  train loss \\S+  train acc .*%  val loss \\d\\.\\d{4}  val acc .*%  test acc .*"),
                lines.get(1));
        JsonNode j = json(m);
        assertEquals(400, j.get("train_samples").asInt());
        assertEquals(100, j.get("validation_samples").asInt());
        assertEquals(0.2, j.get("val_split").asDouble());
        assertEquals("standardize", j.get("preprocess").asText());
        assertEquals("mnist-idx", j.get("data_format").asText());
        double va = j.get("val_accuracy").asDouble();
        assertEquals(va, j.get("history").get(1).get("val_accuracy").asDouble());
        assertTrue(va > 0.3 && va <= 1, "val accuracy " + va);
    }

    @Test
    void pcaReportsTheRetainedVarianceAndFeedsAnMlp() throws Exception {
        Path m = tmp.resolve("p.json");
        TrainCommandTest.Result r = TrainCommandTest.run("--epochs", "1", "--model", "mlp", "--optimizer", "sgd", "--dropout", "0", "--hidden", "16", "--train-limit", "400",
                "--test-limit", "100", "--threads", "1", "--preprocess", "pca:30", "--metrics-out", m.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s).*pca: 30 of 784 components keep \\d+\\.\\d\\d% of the training variance.*"), r.out());
        assertTrue(r.out().contains("Linear(30, 16)") || r.out().contains("30-16-10"), r.out());
        assertEquals("pca:30", json(m).get("preprocess").asText());
    }

    @Test
    void augmentationAndZcaRun() throws Exception {
        Path m = tmp.resolve("a.json");
        TrainCommandTest.Result r = TrainCommandTest.run("--epochs", "1", "--model", "mlp", "--optimizer", "sgd", "--dropout", "0", "--hidden", "16", "--train-limit", "300",
                "--test-limit", "100", "--threads", "1", "--augment", "crop:2,flip,jitter:0.2,rotate:10,cutout:8,mixup:0.2",
                "--preprocess", "zca:0.1", "--metrics-out", m.toString(), "-q");
        assertEquals(0, r.code(), r.err());
        JsonNode j = json(m);
        assertEquals("crop:2,flip,jitter:0.2,rotate:10,cutout:8,mixup:0.2", j.get("augment").asText());
        assertEquals("zca:0.1", j.get("preprocess").asText());
        assertTrue(j.get("final_train_loss").asDouble() > 0);
    }

    @Test
    void badDataOptionsAreOneLineErrors() {
        TrainCommandTest.assertOneLineError(new String[] {"--val-split", "1.5"}, "--val-split", "(0, 1)");
        TrainCommandTest.assertOneLineError(new String[] {"--preprocess", "pca"}, "--preprocess 'pca'", "pca:50");
        TrainCommandTest.assertOneLineError(new String[] {"--augment", "crop:4,blur"}, "--augment", "'blur'", "unknown");
        TrainCommandTest.assertOneLineError(new String[] {"--model", "cnn", "--preprocess", "pca:10"}, "cnn", "[10]");
    }

    @Test
    void trainsOnACifarFolderAndNamesACorruptFile() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("cifar-10-batches-bin"));
        for (int i = 1; i <= 5; i++) {
            Files.write(dir.resolve(Cifar10.trainFile(i)), Cifar10Files.file(i, 8));
        }
        Files.write(dir.resolve(Cifar10.TEST_FILE), Cifar10Files.file(0, 6));
        Path m = tmp.resolve("c.json");
        TrainCommandTest.Result r = TrainCommandTest.run("--data", tmp.toString(), "--model", "mlp", "--optimizer", "sgd", "--dropout", "0", "--hidden", "8",
                "--epochs", "1", "--batch", "16", "--threads", "1", "--val-split", "0.1", "--augment", "crop:4,flip",
                "--metrics-out", m.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("cifar10-binary: 36 train, 4 validation, 6 test"), r.out());
        JsonNode j = json(m);
        assertEquals("cifar10-binary", j.get("data_format").asText());
        assertEquals(dir.toString(), j.get("data").asText());

        byte[] b = Files.readAllBytes(dir.resolve(Cifar10.trainFile(3)));
        Files.write(dir.resolve(Cifar10.trainFile(3)), Arrays.copyOf(b, b.length - 10));
        TrainCommandTest.assertOneLineError(new String[] {"--data", dir.toString()},
                dir.resolve(Cifar10.trainFile(3)).toString(), "truncated record at byte offset " + 7 * Cifar10.RECORD_BYTES);
    }

    /** Small files in the CIFAR-10 binary format. */
    static final class Cifar10Files {
        static byte[] file(int tag, int records) {
            byte[] all = new byte[records * Cifar10.RECORD_BYTES];
            for (int r = 0; r < records; r++) {
                int o = r * Cifar10.RECORD_BYTES;
                all[o] = (byte) ((tag + r) % 10);
                for (int k = 0; k < Cifar10.PIXELS; k++) {
                    all[o + 1 + k] = (byte) ((5 * k + 11 * r + 37 * tag) % 256);
                }
            }
            return all;
        }
    }
}
