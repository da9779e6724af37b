package dev.jtrain.data.augment;

/**
 * {@code cutout:S} (DeVries and Taylor, 2017): set an S x S square to 0 in every channel; its center
 * (cy, cx) is uniform over the pixels (cy drawn first), and the square, rows cy - S/2 .. cy + S - S/2 - 1
 * (integer division), likewise for columns, is clipped at the borders (so it may be smaller).
 */
public final class Cutout implements SampleAugmentation {
    private final int size;

    public Cutout(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("cutout: the square's side must be >= 1, got " + size);
        }
        this.size = size;
    }

    @Override
    public void apply(float[] x, int off, int c, int h, int w, AugmentRandom rng, float[] tmp) {
        int cy = rng.nextInt(h);
        int cx = rng.nextInt(w);
        cut(x, off, c, h, w, cy, cx, size);
    }

    /** Zeroes the square of side {@code size} centered at (cy, cx), clipped to the image. */
    public static void cut(float[] x, int off, int c, int h, int w, int cy, int cx, int size) {
        int y1 = Math.max(0, cy - size / 2);
        int y2 = Math.min(h, cy - size / 2 + size);
        int x1 = Math.max(0, cx - size / 2);
        int x2 = Math.min(w, cx - size / 2 + size);
        for (int ch = 0; ch < c; ch++) {
            for (int y = y1; y < y2; y++) {
                int o = off + ch * h * w + y * w;
                for (int xx = x1; xx < x2; xx++) {
                    x[o + xx] = 0f;
                }
            }
        }
    }

    @Override
    public String spec() {
        return "cutout:" + size;
    }
}
