package dev.jtrain.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API (jdk.incubator.vector) versions of the hot elementwise loops of a training step: ReLU
 * forward/backward, leaky ReLU, bias add, bias-gradient accumulation in double, batch-norm columns. Each computes exactly what the
 * scalar loop computes (same roundings, lane by lane), so results do not depend on which path runs.
 * Only referenced behind {@link #ENABLED} checks made from {@link Simd}, so this class is never loaded when
 * the incubator module is absent.
 */
final class CpuVector {
    private CpuVector() {
    }

    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    /** Floats that widen to one DS vector of doubles. */
    static final VectorSpecies<Float> FH = VectorSpecies.of(float.class, VectorShape.forBitSize(DS.vectorBitSize() / 2));

    static void reluForward(float[] x, float[] y, int from, int to) {
        int i = from;
        int bound = from + FS.loopBound(to - from);
        for (; i < bound; i += FS.length()) {
            FloatVector.fromArray(FS, x, i).max(0f).intoArray(y, i);
        }
        for (; i < to; i++) {
            y[i] = Math.max(x[i], 0f);
        }
    }

    /** dx = x &gt; 0 ? dy : 0. */
    static void reluBackward(float[] x, float[] dy, float[] dx, int from, int to) {
        FloatVector zero = FloatVector.zero(FS);
        int i = from;
        int bound = from + FS.loopBound(to - from);
        for (; i < bound; i += FS.length()) {
            VectorMask<Float> pos = FloatVector.fromArray(FS, x, i).compare(VectorOperators.GT, 0f);
            zero.blend(FloatVector.fromArray(FS, dy, i), pos).intoArray(dx, i);
        }
        for (; i < to; i++) {
            dx[i] = x[i] > 0f ? dy[i] : 0f;
        }
    }

    /** y = x &gt; 0 ? x : x * slope (float multiply, as {@link CpuActivations} does it). */
    static void leakyForward(float[] x, float[] y, float slope, int from, int to) {
        int i = from;
        int bound = from + FS.loopBound(to - from);
        for (; i < bound; i += FS.length()) {
            FloatVector xv = FloatVector.fromArray(FS, x, i);
            xv.mul(slope).blend(xv, xv.compare(VectorOperators.GT, 0f)).intoArray(y, i);
        }
        CpuActivations.leakyForwardScalar(x, y, slope, i, to);
    }

    /** dx = x &gt; 0 ? dy : dy * slope. */
    static void leakyBackward(float[] x, float[] dy, float[] dx, float slope, int from, int to) {
        int i = from;
        int bound = from + FS.loopBound(to - from);
        for (; i < bound; i += FS.length()) {
            FloatVector g = FloatVector.fromArray(FS, dy, i);
            g.mul(slope).blend(g, FloatVector.fromArray(FS, x, i).compare(VectorOperators.GT, 0f)).intoArray(dx, i);
        }
        CpuActivations.leakyBackwardScalar(x, dy, dx, slope, i, to);
    }

    /** y[yOff + j] += b[j] for j &lt; n. */
    static void addRow(float[] y, int yOff, float[] b, int n) {
        int j = 0;
        int bound = FS.loopBound(n);
        for (; j < bound; j += FS.length()) {
            FloatVector.fromArray(FS, y, yOff + j).add(FloatVector.fromArray(FS, b, j)).intoArray(y, yOff + j);
        }
        for (; j < n; j++) {
            y[yOff + j] += b[j];
        }
    }

    /** acc[j] += dy[off + j] (widened to double) for j &lt; n. */
    static void accumulateRow(double[] acc, float[] dy, int off, int n) {
        int j = 0;
        int step = FH.length();
        int bound = FH.loopBound(n);
        for (; j < bound; j += step) {
            DoubleVector d = (DoubleVector) FloatVector.fromArray(FH, dy, off + j).convertShape(VectorOperators.F2D, DS, 0);
            DoubleVector.fromArray(DS, acc, j).add(d).intoArray(acc, j);
        }
        for (; j < n; j++) {
            acc[j] += dy[off + j];
        }
    }

    private static DoubleVector widen(float[] a, int i) {
        return (DoubleVector) FloatVector.fromArray(FH, a, i).convertShape(VectorOperators.F2D, DS, 0);
    }

    private static FloatVector narrow(DoubleVector d) {
        return (FloatVector) d.convertShape(VectorOperators.D2F, FH, 0);
    }

    // ---------------------------------------------------------------- batch norm columns (see CpuBatchNorm)

    /** acc[j] += (x[off + j] - mean[j])^2 in double. */
    static void accSqDev(double[] acc, float[] x, int off, int n, double[] mean) {
        int j = 0;
        int bound = FH.loopBound(n);
        for (; j < bound; j += FH.length()) {
            DoubleVector d = widen(x, off + j).sub(DoubleVector.fromArray(DS, mean, j));
            DoubleVector.fromArray(DS, acc, j).add(d.mul(d)).intoArray(acc, j);
        }
        CpuBatchNorm.accSqDevScalar(acc, x, off, j, n, mean);
    }

    /** y[off + j] = (float) ((x[off + j] - mean[j]) scale[j] + shift[j]). */
    static void normalize(float[] x, float[] y, int off, int n, double[] mean, double[] scale, double[] shift) {
        int j = 0;
        int bound = FH.loopBound(n);
        for (; j < bound; j += FH.length()) {
            DoubleVector d = widen(x, off + j).sub(DoubleVector.fromArray(DS, mean, j));
            narrow(d.mul(DoubleVector.fromArray(DS, scale, j)).add(DoubleVector.fromArray(DS, shift, j)))
                    .intoArray(y, off + j);
        }
        CpuBatchNorm.normalizeScalar(x, y, off, j, n, mean, scale, shift);
    }

    /** accDy[j] += dy[off + j]; accDyX[j] += dy[off + j] (x[off + j] - mean[j]). */
    static void accDyDev(double[] accDy, double[] accDyX, float[] dy, float[] x, int off, int n, double[] mean) {
        int j = 0;
        int bound = FH.loopBound(n);
        for (; j < bound; j += FH.length()) {
            DoubleVector g = widen(dy, off + j);
            DoubleVector d = widen(x, off + j).sub(DoubleVector.fromArray(DS, mean, j));
            DoubleVector.fromArray(DS, accDy, j).add(g).intoArray(accDy, j);
            DoubleVector.fromArray(DS, accDyX, j).add(g.mul(d)).intoArray(accDyX, j);
        }
        CpuBatchNorm.accDyDevScalar(accDy, accDyX, dy, x, off, j, n, mean);
    }

    /** dx[off + j] = (float) (k[j] ((m dy - sumDy[j]) - (x - mean[j]) a[j])). */
    static void bnDx(float[] dy, float[] x, float[] dx, int off, int n, double m, double[] mean, double[] k,
                     double[] sumDy, double[] a) {
        int j = 0;
        int bound = FH.loopBound(n);
        for (; j < bound; j += FH.length()) {
            DoubleVector d = widen(x, off + j).sub(DoubleVector.fromArray(DS, mean, j));
            DoubleVector t = widen(dy, off + j).mul(m).sub(DoubleVector.fromArray(DS, sumDy, j))
                    .sub(d.mul(DoubleVector.fromArray(DS, a, j)));
            narrow(DoubleVector.fromArray(DS, k, j).mul(t)).intoArray(dx, off + j);
        }
        CpuBatchNorm.bnDxScalar(dy, x, dx, off, j, n, m, mean, k, sumDy, a);
    }

    /** dx[off + j] = (float) (k[j] dy[off + j]). */
    static void scaleCols(float[] dy, float[] dx, int off, int n, double[] k) {
        int j = 0;
        int bound = FH.loopBound(n);
        for (; j < bound; j += FH.length()) {
            narrow(DoubleVector.fromArray(DS, k, j).mul(widen(dy, off + j))).intoArray(dx, off + j);
        }
        CpuBatchNorm.scaleColsScalar(dy, dx, off, j, n, k);
    }
}
