package dev.jtrain.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shapes of {@code jtrain bench gemm --shapes}, and the benchmark's rows for them. */
class GemmShapeTest {

    @Test
    void parsesShapesWithAndWithoutTheirOwnTranspose() {
        assertEquals(new GemmShape(128, 512, 784, "nt"), GemmShape.parse("128x512x784:nt"));
        assertEquals(new GemmShape(3, 5, 7, null), GemmShape.parse(" 3X5x7 "));
        assertEquals(2.0 * 3 * 5 * 7, GemmShape.parse("3x5x7").flops());
        for (String bad : new String[] {"3x5", "3x5x7x9", "ax5x7", "0x5x7", "3x5x7:nx", "3x5x-1"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GemmShape.parse(bad), bad);
            assertTrue(e.getMessage().contains(bad.replace("x-1", "")) || e.getMessage().contains("must"), e.getMessage());
        }
    }

    @Test
    void theTrainingSetIsEveryLinearProductOfTheMlpAtThreeBatchSizes() {
        List<GemmShape> t = GemmShape.training();
        assertEquals(3 * 3 * 3, t.size());
        // batch 128, Linear(784, 512): forward x W^T, input gradient dy W, weight gradient dy^T x
        assertTrue(t.contains(new GemmShape(128, 512, 784, "nt")));
        assertTrue(t.contains(new GemmShape(128, 784, 512, "nn")));
        assertTrue(t.contains(new GemmShape(512, 784, 128, "tn")));
        assertTrue(t.contains(new GemmShape(256, 128, 512, "nt")));
    }

    @Test
    void aShapeWithItsOwnOpRunsOnceOthersRunPerTranspose() {
        GemmBenchmark.Options quick = new GemmBenchmark.Options(0.0, 1, 1e-4, 0.0);
        List<GemmBenchmark.Row> rows = GemmBenchmark.run(List.of(GemmShape.parse("3x5x7:tn"), GemmShape.square(4)),
                List.of(1), List.of("nn", "nt"), quick, r -> { });
        assertEquals(3, rows.size());
        assertEquals("tn", rows.get(0).transpose());
        assertEquals("3x5x7", rows.get(0).dims());
        assertEquals("nn", rows.get(1).transpose());
        assertEquals("nt", rows.get(2).transpose());
        for (GemmBenchmark.Row r : rows) {
            assertTrue(r.gflopsMedian() > 0 && r.gflopsMax() >= r.gflopsMedian(), r.toString());
            assertTrue(r.toJson().contains("\"m\": " + r.m()), r.toJson());
            assertTrue(r.warmupSeconds() >= 0, r.toString());
            assertTrue(r.toJson().contains("\"alloc_bytes_per_product\": " + r.allocBytesPerProduct()), r.toJson());
        }
    }

    @Test
    void rowsFlagTheAllocationOfBoxedVectorCode() {
        GemmBenchmark.Row compiled = new GemmBenchmark.Row("jtrain", 64, 512, 784, 1, "nt", 150, 151, 1.2, 96);
        GemmBenchmark.Row boxed = new GemmBenchmark.Row("jtrain", 64, 512, 784, 1, "nt", 4, 6, 1.2, 3_000_000);
        GemmBenchmark.Row numpy = new GemmBenchmark.Row("numpy", 64, 512, 784, 1, "nt", 140, 141);
        assertTrue(!compiled.ranBoxed() && boxed.ranBoxed() && !numpy.ranBoxed());
        assertTrue(!numpy.toJson().contains("alloc"), numpy.toJson());
        assertTrue(boxed.toJson().contains("\"alloc_bytes_per_product\": 3000000"), boxed.toJson());
    }
}
