package dev.jtrain.data.augment;

/**
 * A random transformation of one image sample, applied to training samples only. The image is
 * {@code x[off .. off + c*h*w)} in [C, H, W] layout, pixels in [0, 1] (augmentation runs before
 * preprocessing, as torchvision's transforms run before {@code Normalize}); it is changed in place.
 * {@code tmp} is scratch of at least c*h*w floats. Each call draws its random numbers from {@code rng}.
 */
public interface SampleAugmentation {
    void apply(float[] x, int off, int c, int h, int w, AugmentRandom rng, float[] tmp);

    /** The item as written in {@code --augment}, e.g. {@code crop:4}. */
    String spec();
}
