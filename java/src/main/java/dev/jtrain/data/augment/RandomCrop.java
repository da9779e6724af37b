package dev.jtrain.data.augment;

/**
 * {@code crop:P}: zero-pad the image by P pixels on each side and cut a random H x W window out of it
 * (torchvision's {@code RandomCrop(size, padding=P)}): top dy and left dx uniform in 0..2P, drawn in that
 * order; out[c][y][x] = in[c][y + dy - P][x + dx - P], 0 where that falls outside the image.
 */
public final class RandomCrop implements SampleAugmentation {
    private final int padding;

    public RandomCrop(int padding) {
        if (padding < 0) {
            throw new IllegalArgumentException("crop: padding must be >= 0, got " + padding);
        }
        this.padding = padding;
    }

    @Override
    public void apply(float[] x, int off, int c, int h, int w, AugmentRandom rng, float[] tmp) {
        int dy = rng.nextInt(2 * padding + 1) - padding;
        int dx = rng.nextInt(2 * padding + 1) - padding;
        crop(x, off, c, h, w, dy, dx, tmp);
    }

    /** The crop whose window starts at (dy, dx) relative to the unpadded image (each in -P..P). */
    public static void crop(float[] x, int off, int c, int h, int w, int dy, int dx, float[] tmp) {
        if (dy == 0 && dx == 0) {
            return;
        }
        int n = c * h * w;
        System.arraycopy(x, off, tmp, 0, n);
        for (int ch = 0; ch < c; ch++) {
            int plane = ch * h * w;
            for (int y = 0; y < h; y++) {
                int sy = y + dy;
                for (int xx = 0; xx < w; xx++) {
                    int sx = xx + dx;
                    x[off + plane + y * w + xx] = sy >= 0 && sy < h && sx >= 0 && sx < w ? tmp[plane + sy * w + sx] : 0f;
                }
            }
        }
    }

    @Override
    public String spec() {
        return "crop:" + padding;
    }
}
