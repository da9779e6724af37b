package dev.jtrain.bench;

import dev.jtrain.cli.BenchAllReduceCommand;
import dev.jtrain.distributed.MpiTestLaunch;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code jtrain bench allreduce}: the table from rank 0 under mpirun -np 2, and a one-line error without mpirun. */
class BenchAllReduceCommandTest {

    @Test
    void underMpirunRankZeroPrintsOneRowPerSizeWithConsistentBandwidths() throws Exception {
        MpiTestLaunch.Result r = MpiTestLaunch.mpirun(2, dev.jtrain.cli.Main.class, List.of(),
                "bench", "allreduce", "--max-size", "64k", "--reps", "5");
        assertEquals(0, r.exitCode(), r.output());
        assertEquals(1, r.output().lines().filter(l -> l.startsWith("jtrain bench allreduce: 2 ranks")).count(),
                "only rank 0 prints:\n" + r.output());
        // size, reps, java ms, C ms, C chunk ms, java alg, java bus, C alg, C bus, ratio
        Pattern row = Pattern.compile("^\\s*(\\d+) KiB\\s+(\\d+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+"
                + "([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)$");
        int rows = 0;
        for (String line : r.output().lines().toList()) {
            Matcher m = row.matcher(line);
            if (!m.matches()) {
                continue;
            }
            rows++;
            assertEquals(List.of(4, 16, 64).get(rows - 1), Integer.parseInt(m.group(1)), line);
            double javaMs = Double.parseDouble(m.group(3));
            double javaAlg = Double.parseDouble(m.group(6));
            double javaBus = Double.parseDouble(m.group(7));
            assertTrue(javaMs > 0, line);
            // alg = bytes / time; bus = alg x 2(N-1)/N = alg at N = 2 (both printed to 3 decimals)
            // (ms printed to 3 decimals: the alg figure lies between those of ms +- 0.0005)
            double bytes = Integer.parseInt(m.group(1)) * 1024.0;
            double high = bytes / ((javaMs - 0.0005) * 1e-3) / 1e9;
            double low = bytes / ((javaMs + 0.0005) * 1e-3) / 1e9;
            assertTrue(javaAlg >= low - 0.0005 && (javaMs <= 0.0005 || javaAlg <= high + 0.0005),
                    "alg " + javaAlg + " not in [" + low + ", " + high + "]: " + line);
            assertEquals(javaAlg, javaBus, 0.0015, line);
        }
        assertEquals(3, rows, r.output());
    }

    @Test
    void deviceTensorsUnderMpirunOnEmu() throws Exception {
        // --device cuda goes through NCCL (not measurable here: no GPU); emu runs the same table through a host copy
        MpiTestLaunch.Result r = MpiTestLaunch.mpirun(2, dev.jtrain.cli.Main.class, List.of(),
                "bench", "allreduce", "--device", "emu", "--max-size", "16k", "--reps", "3");
        assertEquals(0, r.exitCode(), r.output());
        assertEquals(1, r.output().lines().filter(l -> l.startsWith("jtrain bench allreduce --device emu: 2 ranks"))
                .count(), "only rank 0 prints:\n" + r.output());
        Pattern row = Pattern.compile("^\\s*(\\d+) KiB\\s+(\\d+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)$");
        List<Integer> sizes = r.output().lines().map(row::matcher).filter(Matcher::matches)
                .map(m -> Integer.parseInt(m.group(1))).toList();
        assertEquals(List.of(4, 16), sizes, r.output());
    }

    @Test
    void withoutMpirunItIsAOneLineError() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(new BenchAllReduceCommand());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        assertEquals(2, cmd.execute("--max-size", "16k"));
        assertTrue(err.toString().startsWith("jtrain bench allreduce: bench allreduce measures MPI ranks: run it under "
                + "OpenMPI's mpirun"), err.toString());
        assertEquals(2, cmd.execute("--reps", "0"));
        assertTrue(err.toString().contains("--reps must be >= 1, got 0"), err.toString());
    }
}
