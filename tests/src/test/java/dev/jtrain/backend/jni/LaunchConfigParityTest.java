package dev.jtrain.backend.jni;

import org.junit.jupiter.api.Test;

import static dev.jtrain.backend.jni.EmuTestSupport.emu;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Emu runs the launch configuration CUDA runs (kernels/launch_config.h): block counts, BatchNorm threads per
 * block and blocks per channel and the per-channel sums' blocks per channel (for given SM counts), the automatic GEMM tile and its split-K slices, the device-filling grid of the
 * optimizer updates (from the device's multiprocessors and occupancy, which differ between devices: the rule
 * must not) and the first-pass blocks of the sums, asked of both libraries (the CUDA library answers without a
 * GPU: these are host-side decisions) over sizes from 1 to beyond the grid cap.
 */
class LaunchConfigParityTest {

    private static final long[] ITEMS = {0, 1, 31, 255, 256, 257, 4096, 1 << 20, (1L << 20) + 1, 65535L * 256,
            65535L * 256 + 1, 1L << 31, 1L << 40};
    private static final int[] SIDES = {1, 7, 32, 33, 64, 127, 128, 512, 784, 2048, 4096};
    private static final int[] FILL_SMS = {0, 1, 2, 108, 132, 148};       // 0: a device that reports nothing
    private static final int[] FILL_BLOCKS_PER_SM = {0, 1, 4, 8, 32};
    /** BatchNorm shapes [n, c, inner]: columns ([N, C]), planes with and without float4, one huge channel. */
    private static final long[][] BATCHNORM = {{1, 1, 1}, {128, 512, 1}, {4096, 100, 1}, {3, 5, 7}, {128, 64, 3136},
            {32, 256, 196}, {2, 3, 30001}, {1, 1, 1L << 30}, {70000, 3, 1}};

    @Test
    void emuAndCudaMakeTheSameLaunchDecisions() {
        NativeApi e = emu();
        String why = NativeLibrary.unavailableReason(NativeLibrary.Kind.CUDA);
        assumeTrue(why == null, () -> "CUDA library not built here (nothing to compare emu with): " + why);
        NativeApi c = CudaNative.api();
        int compared = 0;
        for (long n : ITEMS) {
            for (int threads : new int[] {32, 64, 128, 256, 512, 1024}) {
                assertEquals(c.launchConfig(0, n, threads, 0), e.launchConfig(0, n, threads, 0),
                        "blocks for " + n + " items, " + threads + " threads");
                compared++;
            }
        }
        for (long[] bn : BATCHNORM) {
            for (long sms : new long[] {1, 2, 8, 132, 1000}) {
                long b = (sms << 32) | bn[1];
                for (int kind : new int[] {1, 5, 7}) {
                    assertEquals(c.launchConfig(kind, bn[0], b, bn[2]), e.launchConfig(kind, bn[0], b, bn[2]),
                            (kind == 7 ? "channel-sum splits" : "BatchNorm " + (kind == 1 ? "threads" : "splits"))
                                    + " for [" + bn[0] + ", " + bn[1] + ", " + bn[2] + "] on " + sms + " SMs");
                    compared++;
                }
            }
        }
        for (int m : SIDES) {
            for (int n : SIDES) {
                for (int batch : new int[] {1, 3, 128}) {
                    assertEquals(c.launchConfig(2, m, n, batch), e.launchConfig(2, m, n, batch),
                            "GEMM tile for " + m + " x " + n + ", batch " + batch);
                    compared++;
                }
                for (int k : new int[] {1, 64, 128, 512, 784, 4096}) {
                    assertEquals(c.launchConfig(6, m, n, k), e.launchConfig(6, m, n, k),
                            "GEMM split-K slices for " + m + " x " + n + " x " + k);
                    compared++;
                }
            }
        }
        for (long work : ITEMS) {
            for (int sms : FILL_SMS) {
                for (int perSm : FILL_BLOCKS_PER_SM) {
                    assertEquals(c.launchConfig(3, work, sms, perSm), e.launchConfig(3, work, sms, perSm),
                            "device-filling grid for " + work + " work items, " + sms + " SMs x " + perSm);
                    compared++;
                }
            }
            assertEquals(c.launchConfig(4, work, 0, 0), e.launchConfig(4, work, 0, 0),
                    "reduction pass-1 blocks for " + work + " items");
            compared++;
        }
        assertEquals(ITEMS.length * 6 + BATCHNORM.length * 5 * 3 + SIDES.length * SIDES.length * 9
                + ITEMS.length * (FILL_SMS.length * FILL_BLOCKS_PER_SM.length + 1), compared);
    }

    @Test
    void theDecisionsAreTheOnesTheKernelsDocument() {
        NativeApi e = emu();
        assertEquals(1, e.launchConfig(0, 0, 256, 0), "at least one block");
        assertEquals(4, e.launchConfig(0, 1000, 256, 0));
        assertEquals(65535, e.launchConfig(0, 1L << 40, 256, 0), "capped at 65535 blocks");
        long h100 = 132L << 32;
        assertEquals(32, e.launchConfig(1, 3, h100 | 5, 7), "BatchNorm: at least a warp");
        assertEquals(256, e.launchConfig(1, 128, h100 | 64, 3136), "BatchNorm: at most 256 threads");
        assertEquals(8, e.launchConfig(5, 128, h100 | 64, 3136),
                "BatchNorm [128, 64, 56, 56] on an H100: 8 blocks per channel, 512 in all (one wave at 4 per SM)");
        assertEquals(256, e.launchConfig(1, 4096, h100 | 100, 1), "BatchNorm1d: 32 channels x 8 row lanes");
        assertEquals(32, e.launchConfig(5, 4096, h100 | 100, 1), "BatchNorm1d: rows split, >= 128 rows a block");
        assertThrows(IllegalArgumentException.class, () -> e.launchConfig(1, 3, 5, 7), "BatchNorm: no SM count");
        assertEquals(3, e.launchConfig(2, 32, 4096, 1), "a short output takes the 32-row tile");
        assertEquals(2, e.launchConfig(2, 128, 512, 1), "a small output takes the 64x64 tile");
        assertEquals(1, e.launchConfig(2, 4096, 4096, 1), "a large one the 128x128 tile (256 blocks or more)");
        assertEquals(1056, e.launchConfig(3, 1L << 40, 132, 8), "fills an H100: 132 SMs x 8 blocks, one wave");
        assertEquals(5, e.launchConfig(3, 5, 132, 8), "no more blocks than work items");
        assertEquals(1, e.launchConfig(3, 0, 132, 8), "at least one block");
        assertEquals(1, e.launchConfig(3, 100, 0, 0), "a device that reports nothing: one block");
        assertEquals(1, e.launchConfig(4, 0, 0, 0), "sums: at least one block");
        assertEquals(1, e.launchConfig(4, 8192, 0, 0), "sums: 8 Ki items per block");
        assertEquals(2, e.launchConfig(4, 8193, 0, 0));
        assertEquals(2048, e.launchConfig(4, 1L << 40, 0, 0), "sums: at most 2048 partials");
        assertThrows(IllegalArgumentException.class, () -> e.launchConfig(7, 1, 1, 1));
        assertEquals(4, e.launchConfig(6, 128, 512, 512), "128x512x512: 4 slices of 128 (16 tiles of 64x64)");
        assertEquals(1, e.launchConfig(6, 512, 784, 128), "512x784x128: k too short to split");
        assertEquals(1, e.launchConfig(6, 4096, 4096, 4096), "enough tiles: no split");
        assertEquals(8, e.launchConfig(7, 128, h100 | 64, 3136),
                "bias gradient of [128, 64, 56, 56] on an H100: 8 blocks per channel, 512 in all (one wave at 4 per SM)");
        assertEquals(1, e.launchConfig(7, 128, h100 | 512, 1), "bias gradient of [128, 512]: one unsplit launch");
        assertEquals(32, e.launchConfig(7, 4096, h100 | 3, 1), "[4096, 3]: rows split, >= 128 rows a block");
        assertEquals(528, e.launchConfig(7, 1, h100 | 1, 1L << 24), "one channel: 4 blocks per SM");
        assertThrows(IllegalArgumentException.class, () -> e.launchConfig(7, 1, 1, 1), "channel sums: no SM count");
        assertThrows(IllegalArgumentException.class, () -> e.launchConfig(8, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> e.launchConfig(6, 1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> e.launchConfig(0, 10, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> e.launchConfig(2, 0, 1, 1));
    }
}
