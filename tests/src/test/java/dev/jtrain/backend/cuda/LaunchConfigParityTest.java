package dev.jtrain.backend.cuda;

import org.junit.jupiter.api.Test;

import static dev.jtrain.backend.cuda.EmuTestSupport.emu;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Emu runs the launch configuration CUDA runs (kernels/launch_config.h): block counts, BatchNorm threads per
 * channel block, the automatic GEMM tile and its split-K slices, asked of both libraries (the CUDA library answers without a
 * GPU: these are host-side decisions) over sizes from 1 to beyond the grid cap.
 */
class LaunchConfigParityTest {

    private static final long[] ITEMS = {0, 1, 31, 255, 256, 257, 4096, 1 << 20, (1L << 20) + 1, 65535L * 256,
            65535L * 256 + 1, 1L << 31, 1L << 40};
    private static final int[] SIDES = {1, 7, 32, 33, 64, 127, 128, 512, 784, 2048, 4096};

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
            assertEquals(c.launchConfig(1, n, 0, 0), e.launchConfig(1, n, 0, 0), "BatchNorm threads for m = " + n);
            compared++;
        }
        for (int m : SIDES) {
            for (int n : SIDES) {
                for (int batch : new int[] {1, 3, 128}) {
                    assertEquals(c.launchConfig(2, m, n, batch), e.launchConfig(2, m, n, batch),
                            "GEMM tile for " + m + " x " + n + ", batch " + batch);
                    compared++;
                }
                for (int k : new int[] {1, 64, 128, 512, 784, 4096}) {
                    assertEquals(c.launchConfig(3, m, n, k), e.launchConfig(3, m, n, k),
                            "GEMM split-K slices for " + m + " x " + n + " x " + k);
                    compared++;
                }
            }
        }
        assertEquals(ITEMS.length * 7 + SIDES.length * SIDES.length * 9, compared);
    }

    @Test
    void theDecisionsAreTheOnesTheKernelsDocument() {
        NativeApi e = emu();
        assertEquals(1, e.launchConfig(0, 0, 256, 0), "at least one block");
        assertEquals(4, e.launchConfig(0, 1000, 256, 0));
        assertEquals(65535, e.launchConfig(0, 1L << 40, 256, 0), "capped at 65535 blocks");
        assertEquals(32, e.launchConfig(1, 1, 0, 0), "BatchNorm: at least a warp");
        assertEquals(512, e.launchConfig(1, 1L << 20, 0, 0), "BatchNorm: at most 512 threads");
        assertEquals(3, e.launchConfig(2, 32, 4096, 1), "a short output takes the 32-row tile");
        assertEquals(2, e.launchConfig(2, 128, 512, 1), "a small output takes the 64x64 tile");
        assertEquals(1, e.launchConfig(2, 4096, 4096, 1), "a large one the 128x128 tile (256 blocks or more)");
        assertEquals(4, e.launchConfig(3, 128, 512, 512), "128x512x512: 4 slices of 128 (16 tiles of 64x64)");
        assertEquals(1, e.launchConfig(3, 512, 784, 128), "512x784x128: k too short to split");
        assertEquals(1, e.launchConfig(3, 4096, 4096, 4096), "enough tiles: no split");
        assertThrows(IllegalArgumentException.class, () -> e.launchConfig(4, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> e.launchConfig(3, 1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> e.launchConfig(0, 10, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> e.launchConfig(2, 0, 1, 1));
    }
}
