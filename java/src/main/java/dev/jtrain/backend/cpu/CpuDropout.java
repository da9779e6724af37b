package dev.jtrain.backend.cpu;

import dev.jtrain.random.Philox;

/**
 * Inverted dropout with the Philox mask (docs/architecture.md, section 6): element i is kept when u_i &ge; p (u_i the
 * float uniform of element i of (seed, offset)); the mask holds {@code scale = (float) (1 / (1 - p))}
 * (computed in double) for kept elements and 0 for dropped ones, and y = x * scale (one float32
 * multiply) or 0. p = 0 keeps everything (scale 1, y = x exactly); p = 1 drops everything (y = 0, no
 * division). Groups of four whole blocks go through {@link CpuPhilox4} (same bits), the rest through the loop here.
 */
final class CpuDropout {
    private CpuDropout() {
    }

    static void forward(float[] x, float p, long seed, long offset, float[] y, float[] mask, int n) {
        float scale = p >= 1f ? 0f : (float) (1.0 / (1.0 - p));
        if (p <= 0f) {
            if (y != x) {
                System.arraycopy(x, 0, y, 0, n);
            }
            if (mask != null) {
                java.util.Arrays.fill(mask, 0, n, 1f);
            }
            return;
        }
        boolean fast = CpuPhilox4.applies(p);
        CpuLoops.forRange(CpuRandom.blocks(n), 16, (b0, b1) -> {
            int[] w = new int[4];
            int from = fast ? CpuPhilox4.dropout(x, p, scale, seed, offset, y, mask, n, b0, b1) : b0;
            for (int b = from; b < b1; b++) {
                Philox.block(seed, offset, b, w, 0);
                int base = 4 * b;
                int end = Math.min(n, base + 4);
                for (int i = base; i < end; i++) {
                    boolean keep = Philox.toUniform(w[i - base]) >= p;
                    y[i] = keep ? x[i] * scale : 0f;
                    if (mask != null) {
                        mask[i] = keep ? scale : 0f;
                    }
                }
            }
        });
    }
}
