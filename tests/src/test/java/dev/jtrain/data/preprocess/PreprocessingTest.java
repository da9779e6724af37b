package dev.jtrain.data.preprocess;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.jtrain.data.Dataset;
import dev.jtrain.data.Normalizer;
import dev.jtrain.random.Philox;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Preprocessing against closed forms and hand-made data; the fitted state round-trips through JSON bit-exactly. */
class PreprocessingTest {

    static Dataset data(float[] x, int... dims) {
        int size = 1;
        for (int d : dims) {
            size *= d;
        }
        return new Dataset("hand", x, dims, new long[x.length / size], 1);
    }

    /** n samples of d features: correlated Gaussian-ish data x = A z + b (z from Philox normals), in double then float. */
    static Dataset correlated(int n, int d, long seed) {
        double[][] a = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                a[i][j] = (i == j ? 1.0 + 0.5 * i : 0) + 0.3 * Math.sin(1.7 * i + 0.9 * j);
            }
        }
        float[] x = new float[n * d];
        for (int s = 0; s < n; s++) {
            double[] z = new double[d];
            for (int j = 0; j < d; j++) {
                long k = (long) s * d + j;
                z[j] = Philox.normal(Philox.uniform(seed, 0, 2 * k), Philox.uniform(seed, 0, 2 * k + 1), false);
            }
            for (int i = 0; i < d; i++) {
                double v = 0.25 * i;
                for (int j = 0; j < d; j++) {
                    v += a[i][j] * z[j];
                }
                x[s * d + i] = (float) v;
            }
        }
        return data(x, d);
    }

    /** Population covariance of the rows of x (n x d), in double. */
    static double[][] covariance(float[] x, int n, int d) {
        double[] m = new double[d];
        for (int s = 0; s < n; s++) {
            for (int j = 0; j < d; j++) {
                m[j] += x[s * d + j];
            }
        }
        for (int j = 0; j < d; j++) {
            m[j] /= n;
        }
        double[][] c = new double[d][d];
        for (int s = 0; s < n; s++) {
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    c[i][j] += (x[s * d + i] - m[i]) * (x[s * d + j] - m[j]);
                }
            }
        }
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                c[i][j] /= n;
            }
        }
        return c;
    }

    @Test
    void standardizeAndCenterPerChannel() {
        // 2 samples of [2 channels, 1, 2]: channel 0 values {1, 3, 5, 7}, channel 1 values {10, 10, 20, 20}.
        float[] x = {1, 3, 10, 10, 5, 7, 20, 20};
        ChannelNormalize s = ChannelNormalize.fit(data(x.clone(), 2, 1, 2), true);
        assertArrayEquals(new float[] {4, 15}, s.mean());
        assertArrayEquals(new float[] {(float) Math.sqrt(5), 5}, s.std()); // population std: sqrt(20/4), sqrt(100/4)
        float[] out = new float[8];
        s.apply(x, out, 2);
        float r5 = (float) Math.sqrt(5);
        assertArrayEquals(new float[] {(1 - 4) / r5, (3 - 4) / r5, -1, -1, (5 - 4) / r5, (7 - 4) / r5, 1, 1}, out);

        ChannelNormalize c = ChannelNormalize.fit(data(x.clone(), 2, 1, 2), false);
        c.apply(x, out, 2);
        assertArrayEquals(new float[] {-3, -1, -5, -5, 1, 3, 5, 5}, out);
        assertEquals("center", c.spec());
        // A flat sample is one channel.
        ChannelNormalize flat = ChannelNormalize.fit(data(x.clone(), 4), true);
        assertEquals(1, flat.mean().length);
        assertEquals(9.5f, flat.mean()[0]);
    }

    @Test
    void standardizeOfOneChannelIsTheNormalizerBitForBit() {
        Dataset a = correlated(300, 16, 4);
        Dataset b = data(a.features().clone(), 1, 4, 4);
        Normalizer n = Normalizer.fit(a);
        ChannelNormalize s = ChannelNormalize.fit(b, true);
        assertEquals(n.mean(), s.mean()[0]);
        assertEquals(n.std(), s.std()[0]);
        n.apply(a);
        s.apply(b);
        assertArrayEquals(a.features(), b.features());
    }

    @Test
    void constantChannelCannotBeStandardized() {
        float[] x = {1, 2, 5, 5, 3, 4, 5, 5};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChannelNormalize.fit(data(x, 2, 1, 2), true));
        assertTrue(e.getMessage().contains("channel 1") && e.getMessage().contains("center"), e.getMessage());
    }

    @Test
    void meanImageSubtractsEachFeaturesMean() {
        float[] x = {1, 2, 3, 3, 6, 9};
        MeanImage m = MeanImage.fit(data(x.clone(), 3));
        assertArrayEquals(new float[] {2, 4, 6}, m.mean());
        Dataset d = m.apply(data(x.clone(), 3));
        assertArrayEquals(new float[] {-1, -2, -3, 1, 2, 3}, d.features());
    }

    @Test
    void pcaOfAHandMadeSet() {
        // Points (+-3, 0) and (0, +-1) around (1, 2): covariance diag(9/2, 1/2), eigenvalues 4.5 and 0.5.
        float[] x = {4, 2, -2, 2, 1, 3, 1, 1};
        Pca p = Pca.fit(data(x.clone(), 2), 1);
        assertArrayEquals(new double[] {4.5, 0.5}, p.eigenvalues(), 1e-6);
        assertEquals(0.9, p.retainedVariance(), 1e-7);
        assertArrayEquals(new float[] {1, 2}, p.mean());
        assertArrayEquals(new float[] {1, 0}, p.projection(), 1e-7f); // first axis: e1 (largest entry positive)
        float[] y = new float[4];
        p.apply(x, y, 4);
        assertArrayEquals(new float[] {3, -3, 0, 0}, y, 1e-6f);
        assertArrayEquals(new int[] {1}, p.outputDims());
        assertTrue(p.summary().contains("1 of 2 components keep 90.00%"), p.summary());
    }

    @Test
    void pcaComponentsAreUncorrelatedWithTheEigenvaluesAsVariances() {
        int n = 2000;
        int d = 12;
        int k = 5;
        Dataset train = correlated(n, d, 7);
        double[][] c = covariance(train.features(), n, d);
        double trace = 0;
        for (int i = 0; i < d; i++) {
            trace += c[i][i];
        }
        Pca p = Pca.fit(train, k);
        double[] lambda = p.eigenvalues();
        double sum = Arrays.stream(lambda).sum();
        assertEquals(trace, sum, 1e-4 * trace, "eigenvalues sum to the total variance");
        for (int i = 1; i < d; i++) {
            assertTrue(lambda[i] <= lambda[i - 1], "descending");
        }
        Dataset y = p.apply(train);
        assertArrayEquals(new int[] {k}, y.sampleDims());
        double[][] cy = covariance(y.features(), n, k);
        double kept = 0;
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                double expected = i == j ? lambda[i] : 0;
                assertEquals(expected, cy[i][j], 2e-4 * lambda[0], "cov of components [" + i + "][" + j + "]");
            }
            kept += cy[i][i];
        }
        // Retained variance: the projected data's variance over the original total, and the eigenvalue ratio.
        double ratio = 0;
        for (int i = 0; i < k; i++) {
            ratio += lambda[i];
        }
        assertEquals(ratio / sum, p.retainedVariance(), 1e-12);
        assertEquals(kept / trace, p.retainedVariance(), 1e-4);
    }

    @Test
    void zcaWhitensTheTrainingData() {
        int n = 3000;
        int d = 10;
        Dataset train = correlated(n, d, 11);
        float[] raw = train.features().clone();
        Zca z = Zca.fit(train, 0);
        float[] w = z.whitening();
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                assertEquals(w[i * d + j], w[j * d + i], 1e-6f * Math.abs(w[i * d + i]), "W is symmetric");
            }
        }
        Dataset y = z.apply(train);
        assertArrayEquals(new int[] {d}, y.sampleDims());
        double[][] c = covariance(y.features(), n, d);
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                assertEquals(i == j ? 1.0 : 0.0, c[i][j], 1e-3, "whitened covariance [" + i + "][" + j + "]");
            }
        }
        // With eps, the variance along axis k is lambda_k / (lambda_k + eps): check the smallest axis.
        double eps = 0.5;
        Zca ze = Zca.fit(data(raw.clone(), d), eps);
        double[] lambda = ze.eigenvalues();
        Dataset ye = ze.apply(data(raw.clone(), d));
        double[][] ce = covariance(ye.features(), n, d);
        double tr = 0;
        double expected = 0;
        for (int i = 0; i < d; i++) {
            tr += ce[i][i];
            expected += lambda[i] / (lambda[i] + eps);
        }
        assertEquals(expected, tr, 1e-3 * expected, "trace of the covariance after zca:eps");
    }

    @Test
    void zcaWithoutEpsilonRejectsASingularCovariance() {
        float[] x = {1, 1, 2, 2, 3, 3, 4, 4}; // the two features are equal: rank 1
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Zca.fit(data(x, 2), 0));
        assertTrue(e.getMessage().contains("singular"), e.getMessage());
    }

    @Test
    void everyPreprocessingRoundTripsThroughJsonBitExactly() throws Exception {
        Dataset train = correlated(200, 12, 3);
        Dataset images = data(train.features().clone(), 3, 2, 2);
        ObjectMapper mapper = new ObjectMapper();
        for (String spec : new String[] {"none", "center", "standardize", "mean-image", "pca:4", "zca", "zca:0.1"}) {
            Preprocessor p = Preprocessors.fit(spec, images);
            String text = mapper.writeValueAsString(p.toJson());
            JsonNode parsed = mapper.readTree(text);
            Preprocessor q = Preprocessors.fromJson(parsed);
            assertEquals(p.spec(), q.spec(), spec);
            assertArrayEquals(p.inputDims(), q.inputDims(), spec);
            assertArrayEquals(p.outputDims(), q.outputDims(), spec);
            float[] a = new float[200 * p.outputSize()];
            float[] b = new float[200 * q.outputSize()];
            p.apply(images.features(), a, 200);
            q.apply(images.features(), b, 200);
            assertArrayEquals(a, b, spec);
            assertEquals(parsed, mapper.readTree(mapper.writeValueAsString(q.toJson())), spec + " writes the same JSON again");
            assertEquals(spec.equals("zca") ? "zca:1.0E-5" : spec, p.spec());
        }
    }

    @Test
    void badJsonIsAnErrorNamingTheField() {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode o = Preprocessors.fit("standardize", data(new float[] {1, 2, 3, 5}, 2)).toJson();
        o.remove("std");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Preprocessors.fromJson(o));
        assertTrue(e.getMessage().contains("'std'"), e.getMessage());
        ObjectNode z = Preprocessors.fit("zca:0.1", data(new float[] {1, 2, 3, 5, 0, 1}, 2)).toJson();
        ((ObjectNode) z.get("whitening")).put("base64", "AAAA");
        e = assertThrows(IllegalArgumentException.class, () -> Preprocessors.fromJson(z));
        assertTrue(e.getMessage().contains("'whitening'") && e.getMessage().contains("3 bytes"), e.getMessage());
        ObjectNode u = mapper.createObjectNode().put("type", "sharpen");
        e = assertThrows(IllegalArgumentException.class, () -> Preprocessors.fromJson(u));
        assertTrue(e.getMessage().contains("'sharpen'"), e.getMessage());
    }

    @Test
    void specsParseAndBadOnesAreNamed() {
        assertEquals(new Preprocessors.Spec("pca", 50, 0), Preprocessors.parse("pca:50"));
        assertEquals(new Preprocessors.Spec("zca", 0, 1e-5), Preprocessors.parse("ZCA"));
        assertEquals(new Preprocessors.Spec("zca", 0, 0.01), Preprocessors.parse("zca:0.01"));
        for (String[] bad : new String[][] {{"pca", "number of components"}, {"pca:x", "'x'"}, {"pca:0", ">= 1"},
                {"zca:-1", ">= 0"}, {"whiten", "unknown"}, {"center:2", "no parameter"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Preprocessors.parse(bad[0]));
            assertTrue(e.getMessage().startsWith("preprocessing '" + bad[0] + "'") && e.getMessage().contains(bad[1]),
                    e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Preprocessors.fit("pca:5", data(new float[] {1, 2, 3, 4}, 2)));
        assertTrue(e.getMessage().contains("1..2"), e.getMessage());
        Preprocessor s = Preprocessors.fit("standardize", data(new float[] {1, 2, 3, 4}, 2));
        e = assertThrows(IllegalArgumentException.class, () -> s.apply(data(new float[] {1, 2, 3}, 3)));
        assertTrue(e.getMessage().contains("[2]") && e.getMessage().contains("[3]"), e.getMessage());
    }
}
