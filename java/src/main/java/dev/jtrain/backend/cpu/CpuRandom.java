package dev.jtrain.backend.cpu;

import dev.jtrain.random.Philox;

/**
 * Random fills from Philox4x32-10 with the element mapping of {@link Philox} (the same bits as the CUDA
 * backend): element i of a call (seed, offset) uses word i mod 4 of the block i / 4. Work is split into
 * chunks of whole blocks, so every element's value is a function of (seed, offset, i) only.
 */
final class CpuRandom {
    private CpuRandom() {
    }

    /** t[i] = lo + (hi - lo) u_i (see {@link Philox#uniformIn}). */
    static void uniform(float[] t, int n, float lo, float hi, long seed, long offset) {
        CpuLoops.forRange(blocks(n), 16, (b0, b1) -> {
            int[] w = new int[4];
            for (int b = b0; b < b1; b++) {
                Philox.block(seed, offset, b, w, 0);
                int base = 4 * b;
                int end = Math.min(n, base + 4);
                for (int i = base; i < end; i++) {
                    t[i] = Philox.uniformIn(Philox.toUniform(w[i - base]), lo, hi);
                }
            }
        });
    }

    /** t[i] = mean + std z_i with z from Box-Muller on the pair (2j, 2j + 1) (see {@link Philox#normal}). */
    static void normal(float[] t, int n, float mean, float std, long seed, long offset) {
        double m = mean;
        double s = std;
        CpuLoops.forRange(blocks(n), 64, (b0, b1) -> {
            int[] w = new int[4];
            for (int b = b0; b < b1; b++) {
                Philox.block(seed, offset, b, w, 0);
                int base = 4 * b;
                for (int pair = 0; pair < 4; pair += 2) {
                    int i = base + pair;
                    if (i >= n) {
                        break;
                    }
                    float ua = Philox.toUniform(w[pair]);
                    float ub = Philox.toUniform(w[pair + 1]);
                    t[i] = (float) (m + s * Philox.normal(ua, ub, false));
                    if (i + 1 < n) {
                        t[i + 1] = (float) (m + s * Philox.normal(ua, ub, true));
                    }
                }
            }
        });
    }

    static int blocks(int n) {
        return (int) (((long) n + 3) / 4);
    }
}
