package dev.jtrain.data;

/**
 * Feature standardisation with statistics of the training set: x' = (x - mean) / std, one mean and one
 * std over every feature value (like torchvision's {@code Normalize((0.1307,), (0.3081,))} for MNIST,
 * but computed from the data). The std is the population one (divides by the number of values);
 * sums are taken in double. Apply the training set's normalizer to the test set too. For data of one
 * channel this is {@code --preprocess standardize} ({@link dev.jtrain.data.preprocess.ChannelNormalize}),
 * which gives the same bits; that class also handles several channels and serialises its state.
 */
public final class Normalizer {
    private final float mean;
    private final float std;

    public Normalizer(float mean, float std) {
        if (!(std > 0) || !Float.isFinite(std) || !Float.isFinite(mean)) {
            throw new IllegalArgumentException("normalizer needs a finite mean and a positive finite std, got mean "
                    + mean + ", std " + std);
        }
        this.mean = mean;
        this.std = std;
    }

    /** The mean and std of every feature value of {@code train}. */
    public static Normalizer fit(Dataset train) {
        float[] x = train.features();
        if (x.length == 0) {
            throw new IllegalArgumentException(train.name() + ": cannot compute mean/std of an empty data set");
        }
        double sum = 0;
        for (float v : x) {
            sum += v;
        }
        double m = sum / x.length;
        double sq = 0;
        for (float v : x) {
            double d = v - m;
            sq += d * d;
        }
        double s = Math.sqrt(sq / x.length);
        if (!(s > 0)) {
            throw new IllegalArgumentException(train.name() + ": all feature values are equal (" + m
                    + "), the std is 0 and cannot normalise");
        }
        return new Normalizer((float) m, (float) s);
    }

    public float mean() {
        return mean;
    }

    public float std() {
        return std;
    }

    /** Normalises the features of {@code data} in place (float32: (x - mean) / std); returns it. */
    public Dataset apply(Dataset data) {
        float[] x = data.features();
        float m = mean;
        float s = std;
        for (int i = 0; i < x.length; i++) {
            x[i] = (x[i] - m) / s;
        }
        return data;
    }

    @Override
    public String toString() {
        return "Normalizer(mean=" + mean + ", std=" + std + ")";
    }
}
