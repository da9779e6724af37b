package dev.jtrain.data.augment;

/** {@code flip}: mirror the image left-right with probability 1/2 (flipped when u &lt; 0.5). */
public final class HorizontalFlip implements SampleAugmentation {
    @Override
    public void apply(float[] x, int off, int c, int h, int w, AugmentRandom rng, float[] tmp) {
        if (rng.uniform() < 0.5f) {
            flip(x, off, c, h, w);
        }
    }

    /** out[c][y][x] = in[c][y][w - 1 - x]. */
    public static void flip(float[] x, int off, int c, int h, int w) {
        for (int row = 0; row < c * h; row++) {
            int o = off + row * w;
            for (int i = 0, j = w - 1; i < j; i++, j--) {
                float t = x[o + i];
                x[o + i] = x[o + j];
                x[o + j] = t;
            }
        }
    }

    @Override
    public String spec() {
        return "flip";
    }
}
