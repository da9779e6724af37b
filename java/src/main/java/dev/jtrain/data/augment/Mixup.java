package dev.jtrain.data.augment;

/**
 * {@code mixup:A} (Zhang et al., 2018): per batch, lambda ~ Beta(A, A) and a random permutation p of
 * the batch; sample i becomes lambda x_i + (1 - lambda) x_p(i) (in float32, lambda and 1 - lambda
 * rounded to float), with targets y_a = y and y_b = y[p]. The loss is then
 * lambda CE(logits, y_a) + (1 - lambda) CE(logits, y_b) ({@link dev.jtrain.nn.loss.MixupLoss}).
 */
public final class Mixup {
    private final double alpha;

    public Mixup(double alpha) {
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new IllegalArgumentException("mixup: alpha must be a finite number > 0, got " + alpha);
        }
        this.alpha = alpha;
    }

    public double alpha() {
        return alpha;
    }

    /** Draws lambda, then the permutation (Fisher-Yates, j = rng.nextInt(i + 1) for i = n-1 down to 1). */
    public float draw(AugmentRandom rng, int[] perm, int n) {
        float lambda = (float) rng.beta(alpha, alpha);
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return lambda;
    }

    /**
     * Mixes {@code n} samples of {@code size} floats in {@code x} in place ({@code tmp}: scratch of n * size)
     * and writes the second labels; returns lambda.
     */
    public float mix(float[] x, int size, long[] y, long[] yMix, int n, AugmentRandom rng, int[] perm, float[] tmp) {
        float lambda = draw(rng, perm, n);
        apply(x, size, y, yMix, n, lambda, perm, tmp);
        return lambda;
    }

    /** x_i = lambda x_i + (1 - lambda) x_perm(i), yMix_i = y_perm(i). */
    public static void apply(float[] x, int size, long[] y, long[] yMix, int n, float lambda, int[] perm, float[] tmp) {
        System.arraycopy(x, 0, tmp, 0, n * size);
        float mu = (float) (1.0 - lambda);
        for (int i = 0; i < n; i++) {
            int a = i * size;
            int b = perm[i] * size;
            for (int k = 0; k < size; k++) {
                x[a + k] = lambda * tmp[a + k] + mu * tmp[b + k];
            }
            yMix[i] = y[perm[i]];
        }
    }

    public String spec() {
        return "mixup:" + Augmentation.num(alpha);
    }
}
