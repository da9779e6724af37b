package dev.jtrain.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The 2x2 stride-2 max-pool row of {@link CpuPooling} a vector of outputs at a time: two row vectors of inputs
 * are split into their even and odd columns (the window's left and right candidates) and the comparison tree
 * (a vs b) vs (c vs d) runs on whole vectors with the same strict &gt; at every level. Without NaNs a float
 * compare is the scalar loop's order-key compare (-0 and +0 tie, so the earlier candidate wins): values (bits)
 * and indices equal the scalar path's. A vector of windows holding a NaN is left to the scalar loop (it knows
 * which NaN wins). Indices are carried as floats (exact below 2^24 positions per plane, which the caller
 * checks) so that every blend uses the one float mask. The scalar loop ran at ~8-12 ns per window (four keys
 * and a dependent gather per output).
 *
 * <p>Kept small on purpose: with more vector operations in one method (order keys computed lane-wise) C2
 * stopped inlining the Vector API's calls part-way and boxed the vectors crossing them (~600 bytes allocated per
 * step, 2x slower). JDK 17's two-vector rearrange and masked lane-wise ops are not intrinsics, so the even/odd
 * split is one-vector rearranges and a blend (JFR still caught the one-vector rearrange in its Java fallback in
 * a stand-alone loop, so it may not be compiled to a permute in every JVM); a variant without any rearrange (a
 * window per 64-bit lane) was slower still, its long-lane blends and shifts running their Java fallbacks.
 * Check a change with -Xlog:gc or JFR allocation samples: a vector kernel that allocates is boxed. Measured in one session, LeNet
 * at batch 32, 1 thread (LayerTimes-style harness, loaded VM): pool after conv1 467 -> 72-83 us, after conv2
 * 155 -> 52-56 us. Only referenced behind {@link CpuSimd#VECTOR}.
 */
final class CpuPoolingVector {
    private CpuPoolingVector() {
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /** Lanes 2l (EVEN) and 2l + 1 (ODD) of the concatenation of two vectors: a permute of each, then a blend. */
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(F, l -> (2 * l) % L);
    private static final VectorShuffle<Float> ODD = VectorShuffle.fromOp(F, l -> (2 * l + 1) % L);
    private static final VectorMask<Float> UPPER_HALF = VectorMask.fromLong(F, ((1L << L) - 1) & ~((1L << (L / 2)) - 1));
    /** 2l: the column offset of output lane l's window, as floats. */
    private static final FloatVector TWICE_IOTA = FloatVector.fromArray(F, iota2(), 0);

    private static float[] iota2() {
        float[] v = new float[L];
        for (int l = 0; l < v.length; l++) {
            v[l] = 2 * l;
        }
        return v;
    }

    /**
     * Outputs [0, count) of one row where it can: window j covers x[top + 2j], x[top + 2j + 1] and the same two
     * of the next input row (top + w). A last partial vector (rows narrower than L outputs are all partial:
     * MNIST-sized maps have 14 and 5) is computed whole into scratch and its first lanes copied out; its loads
     * run past the row into the next one (lanes thrown away), so it is taken only while they stay inside x.
     * y from yOut, indices (relative to the plane start xb) into idx when not null.
     *
     * @return how many outputs it wrote from the start of the row (the caller does the rest, one at a time)
     */
    static int row(float[] x, int top, int w, int xb, float[] y, long[] idx, int yOut, int count, Scratch scratch) {
        for (int j = 0; j < count; j += L) {
            int at = top + 2 * j;
            if (at + w + 2 * L > x.length || !window(x, at, w, at - xb, scratch)) {
                return j;
            }
            int n = Math.min(L, count - j);
            int o = yOut + j;
            System.arraycopy(scratch.values, 0, y, o, n);
            if (idx != null) {
                for (int l = 0; l < n; l++) {
                    idx[o + l] = (long) scratch.indices[l];
                }
            }
        }
        return count;
    }

    /** One vector of windows into scratch (values, float indices); false, writing nothing, if one holds a NaN. */
    private static boolean window(float[] x, int at, int w, int corner, Scratch scratch) {
        FloatVector t0 = FloatVector.fromArray(F, x, at);
        FloatVector t1 = FloatVector.fromArray(F, x, at + L);
        FloatVector b0 = FloatVector.fromArray(F, x, at + w);
        FloatVector b1 = FloatVector.fromArray(F, x, at + w + L);
        FloatVector a = t0.rearrange(EVEN).blend(t1.rearrange(EVEN), UPPER_HALF);
        FloatVector b = t0.rearrange(ODD).blend(t1.rearrange(ODD), UPPER_HALF);
        FloatVector c = b0.rearrange(EVEN).blend(b1.rearrange(EVEN), UPPER_HALF);
        FloatVector d = b0.rearrange(ODD).blend(b1.rearrange(ODD), UPPER_HALF);
        // NaN != NaN: a lane of (a+b)+(c+d) is NaN if any candidate is (or for +inf + -inf: rare, also scalar)
        FloatVector any = a.add(b).add(c.add(d));
        if (any.compare(VectorOperators.NE, any).anyTrue()) {
            return false;
        }
        VectorMask<Float> rightUp = b.compare(VectorOperators.GT, a);
        VectorMask<Float> rightDown = d.compare(VectorOperators.GT, c);
        FloatVector up = a.blend(b, rightUp);
        FloatVector down = c.blend(d, rightDown);
        VectorMask<Float> lower = down.compare(VectorOperators.GT, up);
        up.blend(down, lower).intoArray(scratch.values, 0);
        // window corner relative to the plane, + 1 for the right column, + w for the lower row
        FloatVector left = TWICE_IOTA.add(corner);
        FloatVector right = left.add(1f);
        left.blend(right, rightUp).blend(left.blend(right, rightDown).add(w), lower).intoArray(scratch.indices, 0);
        return true;
    }

    /**
     * Scratch of {@link #row}: one vector of values and one of indices, one per thread ({@link #scratch}). A scratch
     * made per plane was meant to be scalar-replaced by escape analysis, but its arrays escape into {@link #window}
     * (a call C2 does not always inline): in some JVMs every plane allocated one, 2.2 MB per cnn training step
     * (found with JFR allocation samples in a run at 12.3 MB per step).
     */
    static final class Scratch {
        final float[] values = new float[L];
        final float[] indices = new float[L];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** This thread's scratch for {@link #row}. */
    static Scratch scratch() {
        return SCRATCH.get();
    }
}
