package dev.jtrain.data.augment;

import dev.jtrain.data.BatchTransform;
import dev.jtrain.data.preprocess.Preprocessor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The training-only augmentation of {@code jtrain train --augment}: a comma-separated list applied to each
 * training sample in the order written, then the preprocessing, then mixup (always last, it mixes whole
 * samples; preprocessing is affine, so mixing before or after it is the same up to rounding):
 * {@code crop:P} ({@link RandomCrop}), {@code flip} ({@link HorizontalFlip}), {@code jitter:S},
 * {@code brightness:S}, {@code contrast:S} ({@link ColorJitter}), {@code rotate:DEG} ({@link RandomRotation}),
 * {@code cutout:S} ({@link Cutout}), {@code mixup:ALPHA} ({@link Mixup}). Example:
 * {@code crop:4,flip,jitter:0.2,rotate:10,cutout:8,mixup:0.2}. Random numbers: {@link AugmentRandom}.
 */
public final class Augmentation {
    public static final List<String> ITEMS = List.of("crop:P", "flip", "jitter:S", "brightness:S", "contrast:S",
            "rotate:DEG", "cutout:S", "mixup:ALPHA");

    private final List<SampleAugmentation> steps;
    private final Mixup mixup;

    public Augmentation(List<SampleAugmentation> steps, Mixup mixup) {
        this.steps = List.copyOf(steps);
        this.mixup = mixup;
    }

    public List<SampleAugmentation> steps() {
        return steps;
    }

    /** The mixup step, or null. */
    public Mixup mixup() {
        return mixup;
    }

    public boolean isEmpty() {
        return steps.isEmpty() && mixup == null;
    }

    /** Parses an {@code --augment} value; errors name the item and the choices. */
    public static Augmentation parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("augmentation: empty list (expected items like " + String.join(",", ITEMS) + ")");
        }
        List<SampleAugmentation> steps = new ArrayList<>();
        Mixup mixup = null;
        for (String raw : text.split(",")) {
            String item = raw.trim().toLowerCase(Locale.ROOT);
            String name = item.contains(":") ? item.substring(0, item.indexOf(':')) : item;
            String arg = item.contains(":") ? item.substring(item.indexOf(':') + 1).trim() : null;
            try {
                switch (name) {
                    case "crop" -> steps.add(new RandomCrop(intArg(arg, 4)));
                    case "flip", "hflip" -> {
                        if (arg != null) {
                            throw new IllegalArgumentException("flip takes no parameter");
                        }
                        steps.add(new HorizontalFlip());
                    }
                    case "jitter" -> {
                        float s = floatArg(arg, 0.2f);
                        steps.add(new ColorJitter(s, s));
                    }
                    case "brightness" -> steps.add(new ColorJitter(floatArg(arg, 0.2f), 0f));
                    case "contrast" -> steps.add(new ColorJitter(0f, floatArg(arg, 0.2f)));
                    case "rotate" -> steps.add(new RandomRotation(floatArg(arg, 10f)));
                    case "cutout" -> steps.add(new Cutout(intArg(arg, 8)));
                    case "mixup" -> {
                        if (mixup != null) {
                            throw new IllegalArgumentException("mixup given twice");
                        }
                        mixup = new Mixup(doubleArg(arg, 0.2));
                    }
                    default -> throw new IllegalArgumentException("unknown augmentation");
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("augmentation '" + text + "': item '" + raw.trim() + "': " + e.getMessage()
                        + " (expected items " + String.join(", ", ITEMS) + ")", e);
            }
        }
        return new Augmentation(steps, mixup);
    }

    private static int intArg(String arg, int dflt) {
        if (arg == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(arg);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + arg + "' is not an integer");
        }
    }

    private static double doubleArg(String arg, double dflt) {
        if (arg == null) {
            return dflt;
        }
        try {
            return Double.parseDouble(arg);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + arg + "' is not a number");
        }
    }

    /** A parameter as written back in a spec: 10 rather than 10.0, 0.2 for 0.2f. */
    static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    static String num(float v) {
        return v == Math.rint(v) && Math.abs(v) < 1e7 ? Long.toString((long) v) : Float.toString(v);
    }

    private static float floatArg(String arg, float dflt) {
        if (arg == null) {
            return dflt;
        }
        try {
            return Float.parseFloat(arg);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + arg + "' is not a number");
        }
    }

    /** The list as it would be written on the command line (defaults filled in). */
    public String spec() {
        List<String> parts = new ArrayList<>();
        for (SampleAugmentation s : steps) {
            parts.add(s.spec());
        }
        if (mixup != null) {
            parts.add(mixup.spec());
        }
        return String.join(",", parts);
    }

    /**
     * The batch transform for samples of {@code imageDims} ([C, H, W], or [H, W] / [D] when no step needs
     * an image): augment, preprocess with {@code pre} (null: none), then mix; batches come out as
     * {@code outputDims} (the model's input shape, of the preprocessing's output size).
     */
    public BatchTransform transform(int[] imageDims, Preprocessor pre, int[] outputDims) {
        return new Pipeline(this, imageDims, pre, outputDims);
    }

    /** Augment, preprocess, mix: one batch at a time (scratch buffers are reused, calls are serialised). */
    private static final class Pipeline implements BatchTransform {
        private final Augmentation aug;
        private final Preprocessor pre;
        private final int c;
        private final int h;
        private final int w;
        private final int inSize;
        private final int outSize;
        private final int[] outputDims;
        private float[] tmp;
        private float[] mixTmp = new float[0];
        private int[] perm = new int[0];

        Pipeline(Augmentation aug, int[] imageDims, Preprocessor pre, int[] outputDims) {
            this.aug = aug;
            this.pre = pre;
            int[] d = imageDims;
            if (!aug.steps.isEmpty() && d.length != 3 && d.length != 2) {
                throw new IllegalArgumentException("augmentation " + aug.spec() + " needs image samples [C, H, W], the data has "
                        + Arrays.toString(d));
            }
            this.c = d.length == 3 ? d[0] : 1;
            this.h = d.length == 3 ? d[1] : d.length == 2 ? d[0] : 1;
            this.w = d.length == 3 ? d[2] : d.length == 2 ? d[1] : d[0];
            this.inSize = c * h * w;
            if (pre != null && pre.inputSize() != inSize) {
                throw new IllegalArgumentException(pre.spec() + " was fitted on samples of " + Arrays.toString(pre.inputDims())
                        + ", the augmented samples are " + Arrays.toString(imageDims));
            }
            this.outSize = pre == null ? inSize : pre.outputSize();
            long o = 1;
            for (int v : outputDims) {
                o *= v;
            }
            if (o != outSize) {
                throw new IllegalArgumentException("batches of " + Arrays.toString(outputDims) + " cannot hold "
                        + outSize + " values per sample");
            }
            this.outputDims = outputDims.clone();
            this.tmp = new float[inSize];
        }

        @Override
        public int[] outputDims() {
            return outputDims.clone();
        }

        @Override
        public boolean mixes() {
            return aug.mixup != null;
        }

        @Override
        public synchronized float apply(float[] src, float[] dst, long[] y, long[] yMix, int n, long seed, long offset,
                                        int firstPosition, int batchIndex) {
            if (!aug.steps.isEmpty()) {
                for (int i = 0; i < n; i++) {
                    AugmentRandom rng = new AugmentRandom(seed, offset, 1L + firstPosition + i);
                    for (SampleAugmentation s : aug.steps) {
                        s.apply(src, i * inSize, c, h, w, rng, tmp);
                    }
                }
            }
            if (pre != null) {
                pre.apply(src, dst, n);
            } else {
                System.arraycopy(src, 0, dst, 0, n * inSize);
            }
            if (aug.mixup == null) {
                return 1f;
            }
            if (perm.length < n) {
                perm = new int[n];
                mixTmp = new float[n * outSize];
            }
            AugmentRandom rng = new AugmentRandom(seed, offset, AugmentRandom.MIXUP_STREAMS + batchIndex);
            return aug.mixup.mix(dst, outSize, y, yMix, n, rng, perm, mixTmp);
        }
    }
}
