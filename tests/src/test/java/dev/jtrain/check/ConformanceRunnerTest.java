package dev.jtrain.check;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.cli.CheckCommand;
import dev.jtrain.tensor.Device;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runner's error handling (FORMAT.md, "The runner"): bad JSON, unknown op, missing input, wrong shape,
 * bad param and wrong values are each a FAIL (or UNSUPPORTED) line naming file and case, never a crash; the
 * output lines, the count line, --json and the exit status of {@code jtrain check}.
 */
class ConformanceRunnerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static Path examples() {
        return ConformanceExamplesTest.conformance().resolve("examples");
    }

    /** The first linear case of the examples, for mutation. */
    private static ObjectNode linearCase() throws IOException {
        JsonNode root = JSON.readTree(examples().resolve("linear.json").toFile());
        return (ObjectNode) root.get("cases").get(0).deepCopy();
    }

    private Path fileWith(String name, List<ObjectNode> cases) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("family", "test");
        root.put("format_version", 1);
        ArrayNode arr = root.putArray("cases");
        cases.forEach(arr::add);
        Path p = tmp.resolve(name);
        Files.writeString(p, JSON.writeValueAsString(root));
        return p;
    }

    private Path mutated(String fileName, Consumer<ObjectNode> change) throws IOException {
        ObjectNode c = linearCase();
        change.accept(c);
        return fileWith(fileName, List.of(c));
    }

    private static CaseResult runOne(Path file) {
        CheckReport r = new ConformanceRunner(Device.CPU).run(List.of(file));
        assertEquals(1, r.results().size(), r.text());
        return r.results().get(0);
    }

    private static void assertFailNaming(CaseResult r, String file, String caseName, String... fragments) {
        assertEquals(Status.FAIL, r.status(), r.line());
        assertTrue(r.message().contains(file), "message names the file: " + r.message());
        if (caseName != null) {
            assertTrue(r.message().contains(caseName), "message names the case: " + r.message());
        }
        for (String f : fragments) {
            assertTrue(r.message().contains(f), "message contains '" + f + "': " + r.message());
        }
        assertTrue(r.line().startsWith("FAIL  "), r.line());
    }

    @Test
    void passingCaseLine() throws IOException {
        CaseResult r = runOne(mutated("ok.json", c -> { }));
        assertEquals(Status.PASS, r.status(), r.line());
        assertTrue(r.line().matches("PASS  \\S+ok\\.json  linear_N4_Din5_Dout3  linear  worst=\\S+"), r.line());
        assertTrue(r.worstRatio() <= 1 && r.maxAbsErr() >= 0);
        assertNull(r.message());
    }

    @Test
    void badJsonIsOneFileLevelFail() throws IOException {
        Path p = tmp.resolve("broken.json");
        Files.writeString(p, "{\"cases\": [ {\"name\": \"x\", ");
        CaseResult r = runOne(p);
        assertNull(r.name());
        assertFailNaming(r, "broken.json", null, "bad JSON");
        Path q = tmp.resolve("nocases.json");
        Files.writeString(q, "{\"family\": \"x\"}");
        assertFailNaming(runOne(q), "nocases.json", null, "no \"cases\" array");
    }

    @Test
    void missingFileIsAFail() {
        CaseResult r = runOne(tmp.resolve("nowhere.json"));
        assertNull(r.name());
        assertFailNaming(r, "nowhere.json", null, "no such file");
    }

    @Test
    void unknownOpIsUnsupported() throws IOException {
        CaseResult r = runOne(mutated("unknown.json", c -> c.put("op", "frobnicate")));
        assertEquals(Status.UNSUPPORTED, r.status());
        assertTrue(r.line().startsWith("UNSUPPORTED  "), r.line());
        assertTrue(r.message().contains("frobnicate"), r.message());
    }

    @Test
    void missingInput() throws IOException {
        CaseResult r = runOne(mutated("missing.json", c -> ((ObjectNode) c.get("inputs")).remove("x")));
        assertFailNaming(r, "missing.json", "linear_N4_Din5_Dout3", "missing input 'x'");
    }

    @Test
    void wrongShape() throws IOException {
        CaseResult r = runOne(mutated("shape.json", c -> {
            ObjectNode dy = (ObjectNode) c.get("inputs").get("dy");
            ArrayNode shape = dy.putArray("shape");
            shape.add(3).add(4);
        }));
        assertFailNaming(r, "shape.json", "linear_N4_Din5_Dout3", "wrong shape", "dy");
    }

    @Test
    void dataThatDoesNotFitTheShape() throws IOException {
        CaseResult r = runOne(mutated("count.json", c -> ((ArrayNode) c.get("inputs").get("x").get("data")).remove(0)));
        assertFailNaming(r, "count.json", "linear_N4_Din5_Dout3", "inputs.x", "needs 20 values");
    }

    @Test
    void wrongDtype() throws IOException {
        CaseResult r = runOne(mutated("dtype.json", c -> ((ObjectNode) c.get("inputs").get("x")).put("dtype", "float16")));
        assertFailNaming(r, "dtype.json", "linear_N4_Din5_Dout3", "dtype", "float16");
    }

    @Test
    void badParam() throws IOException {
        CaseResult r = runOne(mutated("param.json", c -> ((ObjectNode) c.get("params")).put("bias", "yes")));
        assertFailNaming(r, "param.json", "linear_N4_Din5_Dout3", "bad param 'bias'");
    }

    @Test
    void wrongExpectedValueNamesTensorIndexActualExpected() throws IOException {
        CaseResult r = runOne(mutated("value.json", c -> {
            ArrayNode data = (ArrayNode) c.get("grads_f64").get("dW").get("data");
            data.set(6, JSON.getNodeFactory().numberNode(data.get(6).asDouble() + 1));
        }));
        assertEquals(Status.FAIL, r.status());
        assertEquals("dW", r.worstTensor());
        assertTrue(r.worstRatio() > 1);
        assertTrue(r.message().startsWith("dW[1,1]: actual "), r.message());
        assertTrue(r.message().contains(" expected "), r.message());
    }

    @Test
    void aCaseWithoutAResultForAnOutputFails() throws IOException {
        CaseResult r = runOne(mutated("extra.json", c -> ((ObjectNode) c.get("outputs_f64")).set("z",
                c.get("outputs_f64").get("y").deepCopy())));
        assertFailNaming(r, "extra.json", "linear_N4_Din5_Dout3", "no result for 'z'");
    }

    @Test
    void aCorruptTensorFailsItsCaseEvenWhenItIsNotCompared() throws IOException {
        // outputs_f64 is what gets compared; a corrupt float32 "outputs" section must still fail the case.
        CaseResult r = runOne(mutated("corrupt.json", c -> {
            ObjectNode outputs = c.has("outputs") ? (ObjectNode) c.get("outputs") : c.putObject("outputs");
            ObjectNode y = outputs.putObject("y");
            y.putArray("shape").add(2).add(2);
            y.putArray("data").add(1.0);        // 1 value for a 2x2 shape
        }));
        assertFailNaming(r, "corrupt.json", "linear_N4_Din5_Dout3", "outputs.y");
    }

    @Test
    void directoryRunSkipsIndexAndCountsLine() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("dir"));
        ObjectNode ok = linearCase();
        ObjectNode unknown = linearCase();
        unknown.put("name", "other");
        unknown.put("op", "nope");
        ObjectNode root = JSON.createObjectNode();
        root.putArray("cases").add(ok).add(unknown);
        Files.writeString(dir.resolve("a.json"), JSON.writeValueAsString(root));
        Files.writeString(dir.resolve("index.json"), "not even json");
        Files.writeString(dir.resolve("notes.txt"), "ignored");
        CheckReport r = new ConformanceRunner(Device.CPU).run(List.of(dir));
        assertEquals(2, r.results().size(), r.text());
        assertEquals("1 passed, 0 failed, 1 unsupported", r.summaryLine());
        assertFalse(r.allPassed());
        String[] lines = r.text().split("\n");
        assertEquals("1 passed, 0 failed, 1 unsupported", lines[lines.length - 1]);
    }

    @Test
    void checkCommandExitStatusAndJson() throws IOException {
        Path ok = mutated("ok.json", c -> { });
        Path bad = mutated("bad.json", c -> c.put("op", "nope"));
        Path json = tmp.resolve("out/report.json");

        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(new CheckCommand());
        cli.setOut(new PrintWriter(out));
        assertEquals(0, cli.execute(ok.toString(), "--json", json.toString()), out.toString());
        assertTrue(out.toString().contains("1 passed, 0 failed, 0 unsupported"), out.toString());

        JsonNode rep = JSON.readTree(json.toFile());
        List<String> top = new ArrayList<>();
        rep.fieldNames().forEachRemaining(top::add);
        assertEquals(List.of("device", "passed", "failed", "unsupported", "cases"), top);
        assertEquals("cpu", rep.get("device").asText());
        JsonNode c0 = rep.get("cases").get(0);
        List<String> fields = new ArrayList<>();
        for (Iterator<String> it = c0.fieldNames(); it.hasNext(); ) {
            fields.add(it.next());
        }
        assertEquals(List.of("file", "name", "op", "status", "worst_ratio", "max_abs_err", "worst_tensor", "message"),
                fields);
        assertEquals("PASS", c0.get("status").asText());
        assertTrue(c0.get("worst_ratio").isNumber());

        StringWriter out2 = new StringWriter();
        CommandLine cli2 = new CommandLine(new CheckCommand());
        cli2.setOut(new PrintWriter(out2));
        assertEquals(1, cli2.execute(ok.toString(), bad.toString(), tmp.resolve("missing.json").toString(),
                "--json", json.toString()));
        assertTrue(out2.toString().contains("UNSUPPORTED  "), out2.toString());
        JsonNode rep2 = JSON.readTree(json.toFile());
        assertEquals(1, rep2.get("passed").asInt());
        assertEquals(1, rep2.get("failed").asInt());
        assertEquals(1, rep2.get("unsupported").asInt());
        JsonNode missing = rep2.get("cases").get(2);
        assertTrue(missing.get("name").isNull());
        assertEquals("FAIL", missing.get("status").asText());

        CommandLine cli3 = new CommandLine(new CheckCommand());
        cli3.setErr(new PrintWriter(new StringWriter()));
        assertEquals(2, cli3.execute(ok.toString(), "--device", "tpu"));
    }
}
