package dev.jtrain.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jtrain.backend.jni.EmuTestSupport;
import dev.jtrain.cli.BenchTransferCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code jtrain bench transfer} on emu: the rows, the JSON and the one-line errors (status 2). */
class BenchTransferCommandTest {

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(new BenchTransferCommand());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void measuresBothDirectionsAtEverySizeAgainstTheNativeMemcpy(@TempDir Path dir) throws Exception {
        EmuTestSupport.emu();
        Path json = dir.resolve("transfer.json");
        Result r = run("--device", "emu", "--max-size", "64k", "--reps", "3", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        for (String size : new String[] {"4 KiB", "16 KiB", "64 KiB"}) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(size) && l.contains("h2d")), r.out());
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(size) && l.contains("d2h")), r.out());
        }
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertEquals("emu", root.get("device").asText());
        assertEquals(6, root.get("rows").size());
        for (JsonNode row : root.get("rows")) {
            for (String k : new String[] {"jtrain_pinned_gbps", "native_pinned_gbps", "jtrain_pageable_gbps",
                    "native_pageable_gbps", "pinned_ratio"}) {
                assertTrue(row.get(k).asDouble() > 0, k + " in " + row);
            }
        }
    }

    @Test
    void badDevicesAndSizesAreOneLineErrors() {
        String[][] bad = {{"--device", "cpu"}, {"--device", "cuda:7"}, {"--device", "emu", "--max-size", "12q"},
                {"--device", "emu", "--reps", "0"}};
        for (String[] args : bad) {
            Result r = run(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertFalse(r.err().contains("Exception"), r.err());
        }
    }
}
