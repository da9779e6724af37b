package dev.jtrain.data.augment;

/**
 * {@code rotate:D}: rotate the image by an angle uniform in [-D, D] degrees, counter-clockwise as seen
 * (torchvision's sign), about the image center ((W-1)/2, (H-1)/2) in pixel coordinates, with bilinear
 * interpolation (torchvision's {@code RandomRotation(D, interpolation=BILINEAR)}; its default is nearest)
 * and 0 outside the image. Output pixel (x, y) takes the input at
 * (cx + cos(t) (x - cx) - sin(t) (y - cy), cy + sin(t) (x - cx) + cos(t) (y - cy)).
 */
public final class RandomRotation implements SampleAugmentation {
    private final float degrees;

    public RandomRotation(float degrees) {
        if (!(degrees >= 0 && degrees <= 180)) {
            throw new IllegalArgumentException("rotate: the angle must be in 0..180 degrees, got " + degrees);
        }
        this.degrees = degrees;
    }

    @Override
    public void apply(float[] x, int off, int c, int h, int w, AugmentRandom rng, float[] tmp) {
        double angle = degrees * (2.0 * rng.uniform() - 1.0);
        rotate(x, off, c, h, w, angle, tmp);
    }

    /** Rotates by {@code angleDegrees} (see the class comment). */
    public static void rotate(float[] x, int off, int c, int h, int w, double angleDegrees, float[] tmp) {
        if (angleDegrees == 0) {
            return;
        }
        int n = c * h * w;
        System.arraycopy(x, off, tmp, 0, n);
        double t = Math.toRadians(angleDegrees);
        double cos = Math.cos(t);
        double sin = Math.sin(t);
        double cx = (w - 1) / 2.0;
        double cy = (h - 1) / 2.0;
        for (int y = 0; y < h; y++) {
            for (int xx = 0; xx < w; xx++) {
                double ox = xx - cx;
                double oy = y - cy;
                double sx = cx + cos * ox - sin * oy;
                double sy = cy + sin * ox + cos * oy;
                // Snap coordinates within 1e-9 of an integer, so that 90-degree turns copy pixels exactly.
                sx = snap(sx);
                sy = snap(sy);
                int x0 = (int) Math.floor(sx);
                int y0 = (int) Math.floor(sy);
                double fx = sx - x0;
                double fy = sy - y0;
                for (int ch = 0; ch < c; ch++) {
                    int plane = ch * h * w;
                    double v = (1 - fy) * ((1 - fx) * at(tmp, plane, h, w, y0, x0) + fx * at(tmp, plane, h, w, y0, x0 + 1))
                            + fy * ((1 - fx) * at(tmp, plane, h, w, y0 + 1, x0) + fx * at(tmp, plane, h, w, y0 + 1, x0 + 1));
                    x[off + plane + y * w + xx] = (float) v;
                }
            }
        }
    }

    private static double snap(double v) {
        double r = Math.rint(v);
        return Math.abs(v - r) < 1e-9 ? r : v;
    }

    private static double at(float[] img, int plane, int h, int w, int y, int x) {
        return y >= 0 && y < h && x >= 0 && x < w ? img[plane + y * w + x] : 0.0;
    }

    @Override
    public String spec() {
        return "rotate:" + Augmentation.num(degrees);
    }
}
