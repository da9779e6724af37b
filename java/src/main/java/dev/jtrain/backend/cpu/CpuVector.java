package dev.jtrain.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API (jdk.incubator.vector) versions of the hot elementwise loops of a training step: ReLU
 * forward/backward, leaky ReLU, bias add, bias-gradient accumulation in double, batch-norm columns. Each computes exactly what the
 * scalar loop computes (same roundings, lane by lane), so results do not depend on which path runs.
 * Only referenced behind {@link CpuSimd#VECTOR} checks, so this class is never loaded when
 * the incubator module is absent.
 */
final class CpuVector {
    private CpuVector() {
    }

    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    /**
     * Floats are widened to doubles as one FS vector into two DS vectors (parts 0 and 1), never through
     * a half-width float species: a second FloatVector shape in the process makes the JIT's type profile
     * of FloatVector.fromArray/intoArray bimorphic, and then the GEMM's vector code stops being
     * intrinsified and boxes every vector (measured: 15 MB allocated per MLP training step).
     */
    private static final int HALF = DS.length();

    /*
     * Widening (one FS vector to two DS vectors: convertShape F2D, parts 0 and 1) and narrowing (two DS vectors to
     * one FS vector: D2F into part 0 and part -1, whose other lanes are zero, merged with an OR of the bits) are
     * written out in each loop, not as helper methods: once a caller is large (the batch-norm task lambdas inline
     * these loops), C2 stops inlining ordinary methods (NodeCountInliningCutoff) but still inlines the Vector API's
     * own (force-inlined), so a helper that takes or returns a vector is the one call left out of line, and every
     * vector through it is boxed (measured: 7.9 MB allocated per MLP + BatchNorm step). Rule: no method of ours
     * takes or returns a vector.
     */

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
        int bound = FS.loopBound(n);
        for (; j < bound; j += FS.length()) {
            FloatVector f = FloatVector.fromArray(FS, dy, off + j);
            DoubleVector lo = (DoubleVector) f.convertShape(VectorOperators.F2D, DS, 0);
            DoubleVector hi = (DoubleVector) f.convertShape(VectorOperators.F2D, DS, 1);
            DoubleVector.fromArray(DS, acc, j).add(lo).intoArray(acc, j);
            DoubleVector.fromArray(DS, acc, j + HALF).add(hi).intoArray(acc, j + HALF);
        }
        for (; j < n; j++) {
            acc[j] += dy[off + j];
        }
    }

    // ---------------------------------------------------------------- batch norm columns (see CpuBatchNorm)

    /** acc[j] += (x[off + j] - mean[j])^2 in double. */
    static void accSqDev(double[] acc, float[] x, int off, int n, double[] mean) {
        int j = 0;
        int bound = FS.loopBound(n);
        for (; j < bound; j += FS.length()) {
            FloatVector xf = FloatVector.fromArray(FS, x, off + j);
            int h = j + HALF;
            DoubleVector dLo = ((DoubleVector) xf.convertShape(VectorOperators.F2D, DS, 0))
                    .sub(DoubleVector.fromArray(DS, mean, j));
            DoubleVector dHi = ((DoubleVector) xf.convertShape(VectorOperators.F2D, DS, 1))
                    .sub(DoubleVector.fromArray(DS, mean, h));
            DoubleVector.fromArray(DS, acc, j).add(dLo.mul(dLo)).intoArray(acc, j);
            DoubleVector.fromArray(DS, acc, h).add(dHi.mul(dHi)).intoArray(acc, h);
        }
        CpuBatchNorm.accSqDevScalar(acc, x, off, j, n, mean);
    }

    /** y[off + j] = (float) ((x[off + j] - mean[j]) scale[j] + shift[j]). */
    static void normalize(float[] x, float[] y, int off, int n, double[] mean, double[] scale, double[] shift) {
        int j = 0;
        int bound = FS.loopBound(n);
        for (; j < bound; j += FS.length()) {
            FloatVector xf = FloatVector.fromArray(FS, x, off + j);
            int h = j + HALF;
            DoubleVector xLo = (DoubleVector) xf.convertShape(VectorOperators.F2D, DS, 0);
            DoubleVector xHi = (DoubleVector) xf.convertShape(VectorOperators.F2D, DS, 1);
            DoubleVector lo = xLo.sub(DoubleVector.fromArray(DS, mean, j))
                    .mul(DoubleVector.fromArray(DS, scale, j)).add(DoubleVector.fromArray(DS, shift, j));
            DoubleVector hi = xHi.sub(DoubleVector.fromArray(DS, mean, h))
                    .mul(DoubleVector.fromArray(DS, scale, h)).add(DoubleVector.fromArray(DS, shift, h));
            IntVector yLo = ((FloatVector) lo.convertShape(VectorOperators.D2F, FS, 0)).reinterpretAsInts();
            IntVector yHi = ((FloatVector) hi.convertShape(VectorOperators.D2F, FS, -1)).reinterpretAsInts();
            yLo.or(yHi).reinterpretAsFloats().intoArray(y, off + j);
        }
        CpuBatchNorm.normalizeScalar(x, y, off, j, n, mean, scale, shift);
    }

    /** accDy[j] += dy[off + j]; accDyX[j] += dy[off + j] (x[off + j] - mean[j]). */
    static void accDyDev(double[] accDy, double[] accDyX, float[] dy, float[] x, int off, int n, double[] mean) {
        int j = 0;
        int bound = FS.loopBound(n);
        for (; j < bound; j += FS.length()) {
            FloatVector gf = FloatVector.fromArray(FS, dy, off + j);
            FloatVector xf = FloatVector.fromArray(FS, x, off + j);
            int h = j + HALF;
            DoubleVector gLo = (DoubleVector) gf.convertShape(VectorOperators.F2D, DS, 0);
            DoubleVector gHi = (DoubleVector) gf.convertShape(VectorOperators.F2D, DS, 1);
            DoubleVector dLo = ((DoubleVector) xf.convertShape(VectorOperators.F2D, DS, 0))
                    .sub(DoubleVector.fromArray(DS, mean, j));
            DoubleVector dHi = ((DoubleVector) xf.convertShape(VectorOperators.F2D, DS, 1))
                    .sub(DoubleVector.fromArray(DS, mean, h));
            DoubleVector.fromArray(DS, accDy, j).add(gLo).intoArray(accDy, j);
            DoubleVector.fromArray(DS, accDyX, j).add(gLo.mul(dLo)).intoArray(accDyX, j);
            DoubleVector.fromArray(DS, accDy, h).add(gHi).intoArray(accDy, h);
            DoubleVector.fromArray(DS, accDyX, h).add(gHi.mul(dHi)).intoArray(accDyX, h);
        }
        CpuBatchNorm.accDyDevScalar(accDy, accDyX, dy, x, off, j, n, mean);
    }

    /** dx[off + j] = (float) (k[j] ((m dy - sumDy[j]) - (x - mean[j]) a[j])). */
    static void bnDx(float[] dy, float[] x, float[] dx, int off, int n, double m, double[] mean, double[] k,
                     double[] sumDy, double[] a) {
        int j = 0;
        int bound = FS.loopBound(n);
        for (; j < bound; j += FS.length()) {
            FloatVector xf = FloatVector.fromArray(FS, x, off + j);
            FloatVector gf = FloatVector.fromArray(FS, dy, off + j);
            int h = j + HALF;
            DoubleVector gLo = (DoubleVector) gf.convertShape(VectorOperators.F2D, DS, 0);
            DoubleVector gHi = (DoubleVector) gf.convertShape(VectorOperators.F2D, DS, 1);
            DoubleVector xLo = (DoubleVector) xf.convertShape(VectorOperators.F2D, DS, 0);
            DoubleVector xHi = (DoubleVector) xf.convertShape(VectorOperators.F2D, DS, 1);
            DoubleVector lo = DoubleVector.fromArray(DS, k, j).mul(gLo.mul(m).sub(DoubleVector.fromArray(DS, sumDy, j))
                    .sub(xLo.sub(DoubleVector.fromArray(DS, mean, j)).mul(DoubleVector.fromArray(DS, a, j))));
            DoubleVector hi = DoubleVector.fromArray(DS, k, h).mul(gHi.mul(m).sub(DoubleVector.fromArray(DS, sumDy, h))
                    .sub(xHi.sub(DoubleVector.fromArray(DS, mean, h)).mul(DoubleVector.fromArray(DS, a, h))));
            IntVector dLo = ((FloatVector) lo.convertShape(VectorOperators.D2F, FS, 0)).reinterpretAsInts();
            IntVector dHi = ((FloatVector) hi.convertShape(VectorOperators.D2F, FS, -1)).reinterpretAsInts();
            dLo.or(dHi).reinterpretAsFloats().intoArray(dx, off + j);
        }
        CpuBatchNorm.bnDxScalar(dy, x, dx, off, j, n, m, mean, k, sumDy, a);
    }

    /** dx[off + j] = (float) (k[j] dy[off + j]). */
    static void scaleCols(float[] dy, float[] dx, int off, int n, double[] k) {
        int j = 0;
        int bound = FS.loopBound(n);
        for (; j < bound; j += FS.length()) {
            FloatVector gf = FloatVector.fromArray(FS, dy, off + j);
            DoubleVector lo = DoubleVector.fromArray(DS, k, j)
                    .mul((DoubleVector) gf.convertShape(VectorOperators.F2D, DS, 0));
            DoubleVector hi = DoubleVector.fromArray(DS, k, j + HALF)
                    .mul((DoubleVector) gf.convertShape(VectorOperators.F2D, DS, 1));
            IntVector dLo = ((FloatVector) lo.convertShape(VectorOperators.D2F, FS, 0)).reinterpretAsInts();
            IntVector dHi = ((FloatVector) hi.convertShape(VectorOperators.D2F, FS, -1)).reinterpretAsInts();
            dLo.or(dHi).reinterpretAsFloats().intoArray(dx, off + j);
        }
        CpuBatchNorm.scaleColsScalar(dy, dx, off, j, n, k);
    }
}
