package dev.jtrain.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jtrain.backend.jni.CudaNative;
import dev.jtrain.backend.jni.NativeLibrary;
import dev.jtrain.cli.BenchCommand;
import dev.jtrain.cli.BenchKernelsCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code jtrain bench kernels} end to end on emu (tiny sizes), and its clean failure for a missing GPU. */
class KernelBenchmarkTest {
    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(new BenchKernelsCommand());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void registeredUnderBench() {
        assertTrue(new CommandLine(new BenchCommand()).getSubcommands().containsKey("kernels"));
    }

    @Test
    void emuRunsEndToEndWithSmallSizes() throws Exception {
        dev.jtrain.backend.jni.EmuTestSupport.emu(); // a missing emu library fails (unless explicitly skipped)
        Path json = tmp.resolve("kernels.json");
        Result r = run("--device", "emu", "--sizes", "small", "--reps", "1", "--warmup", "0", "--json", json.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("emu: correctness only, speeds meaningless"), r.out());
        for (String op : new String[] {"sgemm", "batchnorm fwd+bwd", "adam", "relu fwd", "dropout fwd"}) {
            assertTrue(r.out().contains(op), op + " in " + r.out());
        }
        assertTrue(r.out().contains("not applicable on emu"), "says why there is no vendor reference: " + r.out());

        JsonNode root = new ObjectMapper().readTree(Files.readString(json));
        assertEquals("emu", root.get("mode").asText());
        assertFalse(root.get("speeds_meaningful").asBoolean());
        assertTrue(root.get("ok").asBoolean(), root.toPrettyString());
        JsonNode results = root.get("results");
        assertEquals(6, results.size(), results.toPrettyString());
        for (JsonNode row : results) {
            assertTrue(row.get("ours_rate").asDouble() > 0, row.toString());
            String ref = row.get("reference").asText();
            if (ref.equals("copy")) {
                assertTrue(row.get("ref_rate").asDouble() > 0, "copy bandwidth measured: " + row);
                assertTrue(row.get("ratio").asDouble() > 0, row.toString());
            } else {  // cuBLAS / cuDNN: not applicable on emu
                assertTrue(row.get("ratio").isNull(), row.toString());
                assertTrue(row.get("note").asText().contains("not applicable on emu"), row.toString());
            }
        }
        assertTrue(root.get("checks").size() >= 3, root.get("checks").toString());
    }

    @Test
    void cudaFailsWithOneLineWhereThereIsNoGpu() {
        String why = NativeLibrary.unavailableReason(NativeLibrary.Kind.CUDA);
        assumeTrue(why != null || CudaNative.api().deviceCount() == 0, "a GPU is present: nothing to fail");
        Result r = run("--device", "cuda", "--sizes", "small");
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals("", r.out());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertTrue(err.startsWith("jtrain bench kernels: --device cuda: "), err);
        assertTrue(why != null ? err.contains(why) : err.contains("no CUDA device"), err);
    }

    @Test
    void badArgumentsFailCleanly() {
        Result r = run("--device", "tpu");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--device must be emu or cuda"), r.err());
        dev.jtrain.backend.jni.EmuTestSupport.emu(); // a missing emu library fails (unless explicitly skipped)
        r = run("--device", "emu", "--sizes", "huge");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("sizes must be small or full"), r.err());
    }
}
