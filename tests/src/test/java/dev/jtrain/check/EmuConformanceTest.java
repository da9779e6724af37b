package dev.jtrain.check;

import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.tensor.Device;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The conformance runner on the GPU device ({@link TestDevices#gpu()}, emu by default) over the project's
 * own copies of the cases (tests/conformance/examples and tests/conformance/generated, found like
 * {@link ConformanceExamplesTest} finds them): every case that passes on the cpu must pass on the GPU
 * device too, against the same PyTorch references and tolerances. Cases that fail on both are named in the
 * message (none at present: ConformanceExamplesTest requires all to pass on the cpu).
 */
class EmuConformanceTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"examples", "generated"})
    void everyCaseThatPassesOnCpuPassesOnTheGpuDevice(String family) {
        Device gpu = TestDevices.gpu();
        CheckReport cpu = new ConformanceRunner(Device.CPU).run(List.of(ConformanceExamplesTest.conformance()
                .resolve(family)));
        CheckReport dev = new ConformanceRunner(gpu).run(List.of(ConformanceExamplesTest.conformance()
                .resolve(family)));
        assertEquals(gpu.toString(), dev.device());
        assertFalse(cpu.results().isEmpty(), "no cases found in " + family);

        Map<String, CaseResult> onDev = new LinkedHashMap<>();
        for (CaseResult r : dev.results()) {
            onDev.put(r.file() + "#" + r.name(), r);
        }
        List<String> regressions = new ArrayList<>();
        List<String> failBoth = new ArrayList<>();
        for (CaseResult c : cpu.results()) {
            CaseResult g = onDev.get(c.file() + "#" + c.name());
            String gl = g == null ? "(not run on " + gpu + ")" : g.line();
            if (c.passed() && (g == null || !g.passed())) {
                regressions.add(gl);
            } else if (!c.passed() && (g == null || !g.passed())) {
                failBoth.add("cpu: " + c.line() + "\n    " + gpu + ": " + gl);
            }
        }
        assertEquals(cpu.results().size(), dev.results().size(), "case counts differ: cpu " + cpu.summaryLine()
                + ", " + gpu + " " + dev.summaryLine());
        assertTrue(regressions.isEmpty(), regressions.size() + " case(s) pass on the cpu but not on " + gpu + ":\n"
                + String.join("\n", regressions) + "\ncases failing on both (" + failBoth.size() + "):\n"
                + String.join("\n", failBoth) + "\n" + gpu + ": " + dev.summaryLine());
    }

    /**
     * Running cases on a device gives its memory back: each case runs in a TensorScope (ConformanceRunner.runCase)
     * that closes its inputs, layers, optimizer state and outputs at the case's end.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"examples", "generated"})
    void theRunnerGivesDeviceMemoryBack(String family) {
        Device gpu = TestDevices.gpu();
        long before = TestDevices.inUseBytes(gpu);
        new ConformanceRunner(gpu).run(List.of(ConformanceExamplesTest.conformance().resolve(family)));
        assertEquals(before, TestDevices.inUseBytes(gpu), "the runner left device memory in use");
    }
}
