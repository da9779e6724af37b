package dev.jtrain.check;

import dev.jtrain.tensor.Device;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the project's own copies of the conformance cases (tests/conformance/examples, shipped from FORMAT.md's
 * examples, and tests/conformance/generated, made by gen/gen_cases.py with PyTorch) on the cpu: every case
 * must pass. Never reads ../shared.
 */
class ConformanceExamplesTest {

    static Path conformance() {
        Path p = Path.of(System.getProperty("jtrain.root", "."), "tests", "conformance");
        assertTrue(Files.isDirectory(p), "conformance cases not found at " + p.toAbsolutePath()
                + " (set -Djtrain.root to the repository root)");
        return p;
    }

    private static CheckReport run(String dir) {
        return new ConformanceRunner(Device.CPU).run(List.of(conformance().resolve(dir)));
    }

    private static void assertAllPassed(CheckReport r) {
        StringBuilder failures = new StringBuilder();
        for (CaseResult c : r.results()) {
            if (!c.passed()) {
                failures.append(c.line()).append('\n');
            }
        }
        assertTrue(r.allPassed(), "failed cases:\n" + failures + r.summaryLine());
    }

    @Test
    void examplesPassOnCpu() {
        CheckReport r = run("examples");
        assertAllPassed(r);
        assertEquals(24, r.passed());
        Set<String> ops = new TreeSet<>();
        r.results().forEach(c -> ops.add(c.op()));
        assertEquals(new TreeSet<>(List.of("relu", "leaky_relu", "elu", "selu", "sigmoid", "tanh", "gelu", "silu",
                "softplus", "prelu", "maxout", "linear", "softmax_cross_entropy", "bce_with_logits", "mse")), ops);
    }

    @Test
    void generatedCasesPassOnCpu() {
        CheckReport r = run("generated");
        assertAllPassed(r);
        Set<String> ops = new TreeSet<>();
        r.results().forEach(c -> ops.add(c.op()));
        assertEquals(new TreeSet<>(List.of("batchnorm1d", "batchnorm2d", "bn_fold_linear", "conv2d", "maxpool2d",
                "avgpool2d", "l2_penalty", "l1_penalty", "elastic_net", "max_norm", "optimizer", "clip_grad_norm",
                "lr_schedule", "init_statistics", "activation_statistics", "training_run", "layer_norm", "group_norm")),
                ops);
        assertEquals(62, r.passed());
        for (CaseResult c : r.results()) {
            assertTrue(c.worstRatio() <= 1, c.line());
        }
    }
}
