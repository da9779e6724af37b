package dev.jtrain.data.augment;

import dev.jtrain.data.BatchIterator;
import dev.jtrain.data.BatchTransform;
import dev.jtrain.data.Dataset;
import dev.jtrain.data.preprocess.Preprocessor;
import dev.jtrain.data.preprocess.Preprocessors;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Augmentations against hand-computed results on tiny images, and the seeded batch pipeline. */
class AugmentationTest {
    /** A 3x3 one-channel image 1..9 (row by row). */
    static float[] nine() {
        return new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9};
    }

    @Test
    void cropShiftsTheWindowAndFillsZeros() {
        float[] tmp = new float[9];
        float[] x = nine();
        RandomCrop.crop(x, 0, 1, 3, 3, 1, -1, tmp); // window one row down, one column left
        assertArrayEquals(new float[] {0, 4, 5, 0, 7, 8, 0, 0, 0}, x);
        x = nine();
        RandomCrop.crop(x, 0, 1, 3, 3, -2, 2, tmp);
        assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0, 3, 0, 0}, x);
        // Two channels, an offset into the array: both planes move the same way.
        float[] two = {-1, 1, 2, 3, 4, 10, 20, 30, 40};
        RandomCrop.crop(two, 1, 2, 2, 2, 0, 1, tmp);
        assertArrayEquals(new float[] {-1, 2, 0, 4, 0, 20, 0, 40, 0}, two);
    }

    @Test
    void randomCropDrawsEveryOffsetInRange() {
        RandomCrop c = new RandomCrop(1);
        boolean[][] seen = new boolean[3][3];
        float[] tmp = new float[9];
        for (int s = 0; s < 200; s++) {
            float[] x = nine();
            c.apply(x, 0, 1, 3, 3, new AugmentRandom(1, 0, s + 1), tmp);
            // The center pixel 5 lands at (1 - dy, 1 - dx); find it.
            int at = -1;
            for (int i = 0; i < 9; i++) {
                if (x[i] == 5) {
                    at = i;
                }
            }
            assertTrue(at >= 0);
            seen[at / 3][at % 3] = true;
        }
        for (boolean[] row : seen) {
            for (boolean b : row) {
                assertTrue(b, "every offset in -1..1 x -1..1 occurs");
            }
        }
    }

    @Test
    void flipMirrorsEachRowOfEachChannel() {
        float[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        HorizontalFlip.flip(x, 0, 2, 2, 3);
        assertArrayEquals(new float[] {3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10}, x);
        int flipped = 0;
        HorizontalFlip f = new HorizontalFlip();
        for (int s = 0; s < 1000; s++) {
            float[] y = {1, 2};
            f.apply(y, 0, 1, 1, 2, new AugmentRandom(3, 1, s + 1), null);
            flipped += y[0] == 2 ? 1 : 0;
        }
        assertTrue(flipped > 430 && flipped < 570, "about half flipped: " + flipped);
    }

    @Test
    void rotationByNinetyDegreesTurnsThePatternCounterClockwise() {
        float[] tmp = new float[9];
        float[] x = nine();
        RandomRotation.rotate(x, 0, 1, 3, 3, 90, tmp);
        assertArrayEquals(new float[] {3, 6, 9, 2, 5, 8, 1, 4, 7}, x);
        x = nine();
        RandomRotation.rotate(x, 0, 1, 3, 3, -90, tmp);
        assertArrayEquals(new float[] {7, 4, 1, 8, 5, 2, 9, 6, 3}, x);
        x = nine();
        RandomRotation.rotate(x, 0, 1, 3, 3, 180, tmp);
        assertArrayEquals(new float[] {9, 8, 7, 6, 5, 4, 3, 2, 1}, x);
        // An even-sized image turns about the middle between pixels.
        float[] four = {1, 2, 3, 4};
        RandomRotation.rotate(four, 0, 1, 2, 2, 90, new float[4]);
        assertArrayEquals(new float[] {2, 4, 1, 3}, four);
    }

    @Test
    void smallRotationInterpolatesBilinearly() {
        // 5x5, a single 1 one pixel right of the center (x=3, y=2). Rotating by 30 degrees, output (x=3, y=1)
        // samples the input at (2 + cos + sin, 2 + sin - cos): weights (1-fx)*fy on the lit pixel (3, 2),
        // with fx = cos + sin - 1 and fy = 1 + sin - cos.
        float[] x = new float[25];
        x[2 * 5 + 3] = 1;
        RandomRotation.rotate(x, 0, 1, 5, 5, 30, new float[25]);
        double c = Math.cos(Math.toRadians(30));
        double s = Math.sin(Math.toRadians(30));
        double fx = c + s - 1;
        double fy = 1 + s - c;
        assertEquals((1 - fx) * fy, x[1 * 5 + 3], 1e-6);
        // The center stays 0 and the lit pixel moved up (counter-clockwise), so its old place lost weight.
        assertEquals(0f, x[2 * 5 + 2]);
        assertTrue(x[2 * 5 + 3] < 1f);
        RandomRotation r = new RandomRotation(10);
        float[] y = new float[25];
        y[12] = 1;
        r.apply(y, 0, 1, 5, 5, new AugmentRandom(0, 0, 1), new float[25]);
        assertEquals(1f, y[12], "the center pixel is the fixed point of any rotation");
    }

    @Test
    void cutoutZeroesTheClippedSquare() {
        float[] x = new float[2 * 4 * 5];
        Arrays.fill(x, 1f);
        Cutout.cut(x, 0, 2, 4, 5, 1, 4, 2); // rows 0..1, columns 3..4
        for (int ch = 0; ch < 2; ch++) {
            for (int y = 0; y < 4; y++) {
                for (int xx = 0; xx < 5; xx++) {
                    boolean in = y <= 1 && xx >= 3;
                    assertEquals(in ? 0f : 1f, x[ch * 20 + y * 5 + xx], ch + "," + y + "," + xx);
                }
            }
        }
        Arrays.fill(x, 1f);
        Cutout.cut(x, 0, 2, 4, 5, 0, 0, 3); // rows -1..1 and columns -1..1, clipped to 0..1
        int zeros = 0;
        for (float v : x) {
            zeros += v == 0 ? 1 : 0;
        }
        assertEquals(2 * 2 * 2, zeros);
        assertEquals(0f, x[1 * 5 + 1]);
        assertEquals(1f, x[2 * 5]);
    }

    @Test
    void jitterScalesBrightnessAndContrastAroundTheGrayMean() {
        float[] x = {0.2f, 0.4f, 0.6f, 0.8f};
        ColorJitter.brightness(x, 0, 4, 1.5f);
        assertArrayEquals(new float[] {1.5f * 0.2f, 1.5f * 0.4f, 1.5f * 0.6f, 1f}, x); // 1.2 clamped
        float[] y = {0.2f, 0.4f, 0.6f, 0.8f};
        ColorJitter.contrast(y, 0, 1, 4, 0.5f); // gray mean 0.5
        assertArrayEquals(new float[] {0.35f, 0.45f, 0.55f, 0.65f}, y, 1e-6f);
        // RGB: the mean of 0.2989 R + 0.587 G + 0.114 B; one pixel R=1, G=0, B=0.5 -> 0.3559.
        float[] rgb = {1f, 0f, 0.5f};
        ColorJitter.contrast(rgb, 0, 3, 1, 2f);
        double g = 0.2989 + 0.114 * 0.5;
        assertArrayEquals(new float[] {1f, 0f, (float) Math.min(1, Math.max(0, 2 * 0.5 - g))}, rgb, 1e-6f);
        // Random factors stay in [1 - s, 1 + s].
        ColorJitter b = new ColorJitter(0.2f, 0f);
        for (int s = 0; s < 100; s++) {
            float[] z = {0.5f};
            b.apply(z, 0, 1, 1, 1, new AugmentRandom(5, 0, s + 1), null);
            assertTrue(z[0] >= 0.4f - 1e-6f && z[0] <= 0.6f + 1e-6f, "factor in [0.8, 1.2]: " + z[0]);
        }
    }

    @Test
    void betaDrawsHaveTheBetaMeanAndVariance() {
        for (double[] ab : new double[][] {{0.2, 0.2}, {1, 1}, {2, 5}}) {
            double a = ab[0];
            double b = ab[1];
            int n = 20000;
            double sum = 0;
            double sq = 0;
            AugmentRandom r = new AugmentRandom(42, 7, 3);
            for (int i = 0; i < n; i++) {
                double v = r.beta(a, b);
                assertTrue(v >= 0 && v <= 1);
                sum += v;
                sq += v * v;
            }
            double mean = sum / n;
            double var = sq / n - mean * mean;
            double m = a / (a + b);
            double v = a * b / ((a + b) * (a + b) * (a + b + 1));
            assertEquals(m, mean, 4 * Math.sqrt(v / n), "Beta(" + a + "," + b + ") mean");
            assertEquals(v, var, 0.05 * v, "Beta(" + a + "," + b + ") variance");
        }
    }

    @Test
    void mixupMixesSamplesAndLabelsWithOneLambda() {
        float[] x = {1, 2, 10, 20, 100, 200};
        long[] y = {0, 1, 2};
        long[] yb = new long[3];
        int[] perm = {2, 0, 1};
        Mixup.apply(x, 2, y, yb, 3, 0.25f, perm, new float[6]);
        assertArrayEquals(new float[] {0.25f * 1 + 0.75f * 100, 0.25f * 2 + 0.75f * 200, 0.25f * 10 + 0.75f * 1,
                0.25f * 20 + 0.75f * 2, 0.25f * 100 + 0.75f * 10, 0.25f * 200 + 0.75f * 20}, x);
        assertArrayEquals(new long[] {2, 0, 1}, yb);
        // draw(): lambda from Beta(alpha, alpha) with the same stream as AugmentRandom.beta, then a permutation.
        Mixup m = new Mixup(0.2);
        int[] p = new int[5];
        float lambda = m.draw(new AugmentRandom(9, 2, AugmentRandom.MIXUP_STREAMS), p, 5);
        assertEquals((float) new AugmentRandom(9, 2, AugmentRandom.MIXUP_STREAMS).beta(0.2, 0.2), lambda);
        int[] sorted = p.clone();
        Arrays.sort(sorted);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, sorted);
    }

    @Test
    void parsesTheAugmentList() {
        Augmentation a = Augmentation.parse("crop:4,flip,jitter:0.2,rotate:10,cutout:8,mixup:0.2");
        assertEquals("crop:4,flip,jitter:0.2,rotate:10,cutout:8,mixup:0.2", a.spec());
        assertEquals(5, a.steps().size());
        assertEquals(0.2, a.mixup().alpha(), 1e-7);
        for (String[] bad : new String[][] {{"blur", "unknown"}, {"crop:x", "'x'"}, {"crop:-1", ">= 0"},
                {"mixup:0", "> 0"}, {"rotate:400", "0..180"}, {"flip:2", "no parameter"}, {"cutout:0", ">= 1"},
                {"mixup,mixup", "twice"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Augmentation.parse(bad[0]));
            assertTrue(e.getMessage().startsWith("augmentation '" + bad[0] + "'") && e.getMessage().contains(bad[1]),
                    e.getMessage());
        }
    }

    /** 16 one-channel 4x4 images, sample i filled with i/16 plus a gradient, labels i % 3. */
    static Dataset images() {
        float[] x = new float[16 * 16];
        long[] y = new long[16];
        for (int i = 0; i < 16; i++) {
            for (int k = 0; k < 16; k++) {
                x[i * 16 + k] = (i + k / 16f) / 17f;
            }
            y[i] = i % 3;
        }
        return new Dataset("img", x, new int[] {1, 4, 4}, y, 3);
    }

    @Test
    void pipelineIsReproducibleAndDependsOnlyOnSeedOffsetAndPosition() {
        Dataset d = images();
        Preprocessor pre = Preprocessors.fit("standardize", d);
        BatchTransform t = Augmentation.parse("crop:1,flip,mixup:0.4").transform(new int[] {1, 4, 4}, pre, new int[] {16});
        assertArrayEquals(new int[] {16}, t.outputDims());
        assertTrue(t.mixes());
        float[][] first = batches(d, t, false, 21);
        assertArrayEquals(first, batches(d, t, false, 21), "same seed, same batches");
        assertArrayEquals(first, batches(d, t, true, 21), "prefetching changes nothing");
        assertFalse(Arrays.deepEquals(first, batches(d, t, false, 22)), "another seed, other batches");
        // Without mixup, a sample's augmentation comes from its own stream: batch size does not matter.
        BatchTransform noMix = Augmentation.parse("crop:1,flip").transform(new int[] {1, 4, 4}, null, new int[] {1, 4, 4});
        assertArrayEquals(concat(batchesOf(d, noMix, 4, 5)), concat(batchesOf(d, noMix, 16, 5)));
    }

    @Test
    void batchesCarryMixedLabelsAndLambda() {
        Dataset d = images();
        BatchTransform t = Augmentation.parse("mixup:1").transform(new int[] {1, 4, 4}, null, new int[] {1, 4, 4});
        BatchIterator it = new BatchIterator(d, 8, true, Device.CPU, false, t);
        it.startEpoch(new Generator(4));
        int[] order = it.order();
        BatchIterator.Batch b = it.next();
        assertTrue(b.mixed());
        float lambda = b.mixLambda();
        assertTrue(lambda > 0 && lambda < 1, "lambda " + lambda);
        // Each row is lambda * sample(order[r]) + (1 - lambda) * sample(j) for the j whose label is yMix[r].
        float mu = (float) (1.0 - lambda);
        for (int r = 0; r < 8; r++) {
            int a = order[r];
            boolean found = false;
            for (int s = 0; s < 8 && !found; s++) {
                int other = order[s];
                if (d.labels()[other] != b.yMix().longs()[r]) {
                    continue;
                }
                boolean all = true;
                for (int k = 0; k < 16; k++) {
                    float expected = lambda * d.features()[a * 16 + k] + mu * d.features()[other * 16 + k];
                    all &= expected == b.x().floats()[r * 16 + k];
                }
                found = all;
            }
            assertTrue(found, "row " + r + " is a mix of its sample and one of the batch with the yMix label");
            assertEquals(d.labels()[a], b.y().longs()[r]);
        }
        // Without a transform batches are not mixed.
        BatchIterator plain = new BatchIterator(d, 8, true, Device.CPU);
        plain.startEpoch(new Generator(4));
        BatchIterator.Batch pb = plain.next();
        assertFalse(pb.mixed());
        assertEquals(1f, pb.mixLambda());
        assertEquals(null, pb.yMix());
    }

    @Test
    void augmentationChangesTrainingBatchesFromEpochToEpoch() {
        Dataset d = images();
        BatchTransform t = Augmentation.parse("crop:2,rotate:15").transform(new int[] {1, 4, 4}, null, new int[] {1, 4, 4});
        BatchIterator it = new BatchIterator(d, 16, false, Device.CPU, false, t);
        Generator g = new Generator(1);
        it.startEpoch(g);
        float[] e1 = it.next().x().floats().clone();
        it.startEpoch(g);
        float[] e2 = it.next().x().floats().clone();
        assertNotEquals(Arrays.toString(e1), Arrays.toString(e2));
        assertFalse(Arrays.equals(e1, d.features()), "samples were augmented");
        assertEquals(2, g.offset(), "an unshuffled iterator with a transform takes one offset per epoch");
    }

    static float[][] batches(Dataset d, BatchTransform t, boolean prefetch, long seed) {
        BatchIterator it = new BatchIterator(d, 5, true, Device.CPU, prefetch, t);
        Generator g = new Generator(seed);
        float[][] out = new float[8][];
        int k = 0;
        for (int epoch = 0; epoch < 2; epoch++) {
            it.startEpoch(g);
            while (it.hasNext()) {
                BatchIterator.Batch b = it.next();
                float[] row = Arrays.copyOf(b.x().floats(), b.x().numel() + 2 * b.size() + 1);
                for (int r = 0; r < b.size(); r++) {
                    row[b.x().numel() + r] = b.y().longs()[r];
                    row[b.x().numel() + b.size() + r] = b.yMix().longs()[r];
                }
                row[row.length - 1] = b.mixLambda();
                out[k++] = row;
            }
        }
        it.close();
        return out;
    }

    static float[][] batchesOf(Dataset d, BatchTransform t, int batch, long seed) {
        BatchIterator it = new BatchIterator(d, batch, true, Device.CPU, false, t);
        it.startEpoch(new Generator(seed));
        float[][] out = new float[16 / batch][];
        for (int k = 0; it.hasNext(); k++) {
            out[k] = it.next().x().floats().clone();
        }
        return out;
    }

    static float[] concat(float[][] parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] all = new float[n];
        int o = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, o, p.length);
            o += p.length;
        }
        return all;
    }
}
