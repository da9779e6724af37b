package dev.jtrain.data.augment;

/**
 * {@code jitter:S} (brightness and contrast), {@code brightness:S}, {@code contrast:S}: torchvision's
 * {@code ColorJitter} brightness and contrast on [0, 1] images, applied in that fixed order (torchvision
 * picks a random order). Factors are uniform in [max(0, 1 - S), 1 + S], brightness's drawn first:
 * <ul>
 *   <li>brightness f: x = clamp(f x, 0, 1);</li>
 *   <li>contrast f: x = clamp(f x + (1 - f) g, 0, 1), g the mean of the image's grayscale
 *       (0.2989 R + 0.587 G + 0.114 B for 3 channels, the mean of all values otherwise).</li>
 * </ul>
 */
public final class ColorJitter implements SampleAugmentation {
    private final float brightness;
    private final float contrast;

    public ColorJitter(float brightness, float contrast) {
        if (!(brightness >= 0) || !(contrast >= 0) || Float.isInfinite(brightness) || Float.isInfinite(contrast)) {
            throw new IllegalArgumentException("jitter: strengths must be finite and >= 0, got brightness " + brightness
                    + ", contrast " + contrast);
        }
        this.brightness = brightness;
        this.contrast = contrast;
    }

    @Override
    public void apply(float[] x, int off, int c, int h, int w, AugmentRandom rng, float[] tmp) {
        if (brightness > 0) {
            brightness(x, off, c * h * w, factor(brightness, rng));
        }
        if (contrast > 0) {
            contrast(x, off, c, h * w, factor(contrast, rng));
        }
    }

    private static float factor(float s, AugmentRandom rng) {
        float lo = Math.max(0f, 1f - s);
        float hi = 1f + s;
        return lo + (hi - lo) * rng.uniform();
    }

    /** x = clamp(f x, 0, 1) over n values. */
    public static void brightness(float[] x, int off, int n, float f) {
        for (int i = off; i < off + n; i++) {
            x[i] = clamp(f * x[i]);
        }
    }

    /** x = clamp(f x + (1 - f) g, 0, 1), g the grayscale mean (see the class comment). */
    public static void contrast(float[] x, int off, int c, int plane, float f) {
        double g = 0;
        if (c == 3) {
            for (int i = 0; i < plane; i++) {
                g += 0.2989 * x[off + i] + 0.587 * x[off + plane + i] + 0.114 * x[off + 2 * plane + i];
            }
            g /= plane;
        } else {
            for (int i = 0; i < c * plane; i++) {
                g += x[off + i];
            }
            g /= (double) c * plane;
        }
        float shift = (1f - f) * (float) g;
        for (int i = off; i < off + c * plane; i++) {
            x[i] = clamp(f * x[i] + shift);
        }
    }

    private static float clamp(float v) {
        return v < 0f ? 0f : (v > 1f ? 1f : v);
    }

    @Override
    public String spec() {
        if (brightness == contrast) {
            return "jitter:" + fmt(brightness);
        }
        return (brightness > 0 ? "brightness:" + fmt(brightness) : "") + (brightness > 0 && contrast > 0 ? "," : "")
                + (contrast > 0 ? "contrast:" + fmt(contrast) : "");
    }

    private static String fmt(float v) {
        return Augmentation.num(v);
    }
}
