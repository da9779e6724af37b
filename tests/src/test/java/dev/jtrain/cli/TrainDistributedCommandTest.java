package dev.jtrain.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jtrain.distributed.Communicator;
import dev.jtrain.distributed.LocalGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code jtrain train --distributed} with the ranks as threads of this JVM ({@link LocalGroup} in place of mpirun's
 * communicator): rank 0 alone prints and writes, the metrics match one process, refusals. The same command under
 * mpirun is {@link TrainMpirunTest}.
 */
class TrainDistributedCommandTest {
    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {
    }

    static Result run(Communicator comm, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        TrainCommand train = new TrainCommand();
        if (comm != null) {
            train.distributedOptions.communicators = () -> comm;
            train.distributedOptions.inProcess = true;
        }
        CommandLine cmd = new CommandLine(train);
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    static List<String> args(Path dir, String... extra) {
        List<String> a = new ArrayList<>(List.of("--model", "mlp", "--hidden", "32", "--optimizer", "sgd", "--dropout", "0",
                "--epochs", "2", "--batch", "64", "--train-limit", "512", "--test-limit", "128", "--threads", "1",
                "--metrics-out", dir.resolve("m.json").toString(), "--log", dir.resolve("log.csv").toString(),
                "--save", dir.resolve("ckpt.safetensors").toString()));
        a.addAll(List.of(extra));
        return a;
    }

    @Test
    void rankZeroAlonePrintsAndWritesAndTheMetricsAreThoseOfOneProcess() throws Exception {
        Path single = Files.createDirectories(tmp.resolve("single"));
        Result one = run(null, args(single).toArray(new String[0]));
        assertEquals(0, one.code(), one.err());

        // each rank gets its own output folder: whatever rank 1 wrote would show in its folder
        List<Result> ranks = LocalGroup.run(2, c -> {
            Path dir = Files.createDirectories(tmp.resolve("rank" + c.rank()));
            return run(c, args(dir, "--distributed").toArray(new String[0]));
        });
        assertEquals(0, ranks.get(0).code(), ranks.get(0).err());
        assertEquals(0, ranks.get(1).code(), ranks.get(1).err());
        assertTrue(ranks.get(0).out().contains("distributed: rank 0/2 prints; 2 ranks, global batch 64 (32 per rank)"),
                ranks.get(0).out());
        assertTrue(ranks.get(0).out().contains("gradient all-reduce overlapped with the backward in buckets of 4096 KiB"),
                ranks.get(0).out());
        assertTrue(ranks.get(0).out().matches("(?s).*distributed: rank 0 waited [0-9.]+ ms/step for the gradient all-reduce "
                + "\\(the part not overlapped by the backward, 16 steps, .*"), ranks.get(0).out());
        assertEquals("", ranks.get(1).out(), "rank 1 prints nothing");
        assertEquals("", ranks.get(1).err());
        try (Stream<Path> files = Files.list(tmp.resolve("rank1"))) {
            assertEquals(List.of(), files.toList(), "rank 1 writes no file");
        }
        for (String f : new String[] {"m.json", "log.csv", "ckpt.safetensors"}) {
            assertTrue(Files.exists(tmp.resolve("rank0").resolve(f)), f);
        }
        JsonNode a = new ObjectMapper().readTree(single.resolve("m.json").toFile());
        JsonNode b = new ObjectMapper().readTree(tmp.resolve("rank0").resolve("m.json").toFile());
        assertEquals(2, b.at("/ranks").asInt());
        for (int e = 0; e < 2; e++) {
            JsonNode ea = a.at("/history/" + e);
            JsonNode eb = b.at("/history/" + e);
            assertEquals(ea.get("steps").asInt(), eb.get("steps").asInt());
            // float sums over a different split of the batch: see DataParallelTrainingTest
            assertEquals(ea.get("train_loss").asDouble(), eb.get("train_loss").asDouble(), 1e-4 * ea.get("train_loss").asDouble());
            assertEquals(ea.get("test_loss").asDouble(), eb.get("test_loss").asDouble(), 1e-4 * ea.get("test_loss").asDouble());
        }

        // every rank resumes from rank 0's checkpoint (one more epoch)
        Path ckpt = tmp.resolve("rank0").resolve("ckpt.safetensors");
        List<Result> resumed = LocalGroup.run(2, c -> run(c, "--resume", ckpt.toString(), "--epochs", "3", "--distributed",
                "--metrics-out", tmp.resolve("resumed" + c.rank() + ".json").toString()));
        assertEquals(0, resumed.get(0).code(), resumed.get(0).err());
        assertEquals(0, resumed.get(1).code(), resumed.get(1).err());
        assertTrue(Files.exists(tmp.resolve("resumed0.json")));
        assertTrue(!Files.exists(tmp.resolve("resumed1.json")));
    }

    @Test
    void lrScaleWorkersMultipliesByTheRanks() throws Exception {
        List<Result> r = LocalGroup.run(2, c -> run(c, "--model", "mlp", "--hidden", "8", "--optimizer", "sgd", "--lr", "0.05",
                "--lr-scale", "workers", "--warmup-epochs", "1", "--distributed", "--batch", "32", "--train-limit", "64",
                "--test-limit", "16", "--epochs", "1", "-q", "--metrics-out", tmp.resolve("w" + c.rank() + ".json").toString()));
        assertEquals(0, r.get(0).code(), r.get(0).err());
        JsonNode m = new ObjectMapper().readTree(tmp.resolve("w0.json").toFile());
        assertEquals(0.1, m.get("base_lr").asDouble(), 1e-12);
        assertEquals(1, m.get("warmup_epochs").asInt());
    }

    @Test
    void refusals() {
        Result noMpi = run(null, "--model", "mlp", "--distributed", "--train-limit", "64", "-q");
        assertEquals(2, noMpi.code());
        assertTrue(noMpi.err().contains("--distributed needs a launch by mpirun (OMPI_COMM_WORLD_SIZE is not set)"), noMpi.err());
        Result syncAlone = run(null, "--model", "mlp", "--sync-bn", "--train-limit", "64", "-q");
        assertTrue(syncAlone.err().contains("--sync-bn needs --distributed"), syncAlone.err());
        Result overlapAlone = run(null, "--model", "mlp", "--no-overlap", "--train-limit", "64", "-q");
        assertEquals(2, overlapAlone.code());
        assertTrue(overlapAlone.err().contains("--no-overlap needs --distributed"), overlapAlone.err());
        Result bucketAlone = run(null, "--model", "mlp", "--grad-bucket-kb", "64", "--train-limit", "64", "-q");
        assertTrue(bucketAlone.err().contains("--grad-bucket-kb needs --distributed"), bucketAlone.err());
        List<Result> badBucket = LocalGroup.run(2, c -> run(c, "--model", "mlp", "--distributed", "--grad-bucket-kb", "0",
                "--train-limit", "64", "-q"));
        for (Result r : badBucket) {
            assertEquals(2, r.code());
            assertTrue(r.err().contains("--grad-bucket-kb must be in [1, 1048576], got 0"), r.err());
        }
        List<Result> badBatch = LocalGroup.run(2, c -> run(c, "--model", "mlp", "--hidden", "8", "--distributed", "--batch", "64",
                "--train-limit", "129", "--test-limit", "10", "--epochs", "1", "-q"));
        for (Result r : badBatch) {
            assertEquals(1, r.code());
            assertTrue(r.err().contains("the epoch's last batch has 1 sample (129 % 64), fewer than the 2 ranks"), r.err());
        }
        assertTrue(badBatch.get(1).err().startsWith("jtrain train: error: rank 1/2: "), badBatch.get(1).err());
    }
}
