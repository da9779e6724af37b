package dev.jtrain.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The 2x2 stride-2 max-pool row of {@link CpuPooling} a vector of outputs at a time: two row vectors of inputs
 * are split into their even and odd columns (the window's left and right candidates), each candidate becomes
 * the same integer order key as the scalar loop's, and the comparison tree (a vs b) vs (c vs d) runs on whole
 * vectors with the same strict &gt; at every level, so values (bits) and indices equal the scalar path's.
 * The scalar loop ran at ~8-12 ns per window (four keys and a dependent gather per output); this one does
 * L windows per step. Only referenced behind {@link CpuSimd#VECTOR}.
 */
final class CpuPoolingVector {
    private CpuPoolingVector() {
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /*
     * Lanes 2l (EVEN) and 2l + 1 (ODD) of the concatenation of two vectors, as two one-vector rearranges
     * (indices taken modulo L) blended on the upper half: JDK 17 compiles these to permutes and a blend, while
     * its two-vector rearrange and masked lane-wise ops (add under a mask) are not intrinsics and allocate.
     */
    private static final VectorShuffle<Integer> EVEN = VectorShuffle.fromOp(I, l -> (2 * l) % L);
    private static final VectorShuffle<Integer> ODD = VectorShuffle.fromOp(I, l -> (2 * l + 1) % L);
    private static final VectorMask<Integer> UPPER_HALF = VectorMask.fromLong(I, ((1L << L) - 1) & ~((1L << (L / 2)) - 1));
    /** 2l: the column offset of output lane l's window. */
    private static final IntVector TWICE_IOTA = IntVector.fromArray(I, iota2(), 0);

    private static int[] iota2() {
        int[] v = new int[L];
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
     * y from yOut, indices (relative to the plane start xb) into idx when not null; scratch: {@link #scratch}.
     *
     * @return how many outputs it wrote (count, or fewer at the end of x: the caller does the rest)
     */
    static int row(float[] x, int top, int w, int xb, float[] y, long[] idx, int yOut, int count, Scratch scratch) {
        int j = 0;
        for (; j < count; j += L) {
            int at = top + 2 * j;
            int n = Math.min(L, count - j);
            if (at + w + 2 * L > x.length) {
                return j;
            }
            IntVector t0 = FloatVector.fromArray(F, x, at).reinterpretAsInts();
            IntVector t1 = FloatVector.fromArray(F, x, at + L).reinterpretAsInts();
            IntVector b0 = FloatVector.fromArray(F, x, at + w).reinterpretAsInts();
            IntVector b1 = FloatVector.fromArray(F, x, at + w + L).reinterpretAsInts();
            IntVector a = t0.rearrange(EVEN).blend(t1.rearrange(EVEN), UPPER_HALF);
            IntVector b = t0.rearrange(ODD).blend(t1.rearrange(ODD), UPPER_HALF);
            IntVector c = b0.rearrange(EVEN).blend(b1.rearrange(EVEN), UPPER_HALF);
            IntVector d = b0.rearrange(ODD).blend(b1.rearrange(ODD), UPPER_HALF);
            IntVector ka = key(a, 0);
            IntVector kb = key(b, 1);
            IntVector kc = key(c, 2);
            IntVector kd = key(d, 3);
            VectorMask<Integer> rightUp = kb.compare(VectorOperators.GT, ka);
            VectorMask<Integer> rightDown = kd.compare(VectorOperators.GT, kc);
            IntVector kUp = ka.blend(kb, rightUp);
            IntVector kDown = kc.blend(kd, rightDown);
            VectorMask<Integer> down = kDown.compare(VectorOperators.GT, kUp);
            FloatVector value = a.blend(b, rightUp).blend(c.blend(d, rightDown), down).reinterpretAsFloats();
            int o = yOut + j;
            if (n == L) {
                value.intoArray(y, o);
            } else {
                value.intoArray(scratch.values, 0);
                System.arraycopy(scratch.values, 0, y, o, n);
            }
            if (idx != null) {
                // window corner relative to the plane, + 1 for the right column, + w for the lower row
                IntVector corner = TWICE_IOTA.add(at - xb);
                IntVector right = corner.add(1);
                IntVector up = corner.blend(right, rightUp);
                IntVector lower = corner.blend(right, rightDown).add(w);
                up.blend(lower, down).intoArray(scratch.indices, 0);
                for (int l = 0; l < n; l++) {
                    idx[o + l] = scratch.indices[l];
                }
            }
        }
        return count;
    }

    /** Per-call scratch of {@link #row}: one vector of values and one of indices. */
    static final class Scratch {
        final float[] values = new float[L];
        final int[] indices = new int[L];
    }

    /**
     * {@link CpuPooling}'s order key, lane-wise: -0 made +0 (adding 0 to the float), negatives' magnitude bits
     * flipped (sign-magnitude to two's complement order), every NaN above +inf and a later one above an
     * earlier one ({@code position} in the window).
     */
    private static IntVector key(IntVector raw, int position) {
        IntVector bits = raw.reinterpretAsFloats().add(0f).reinterpretAsInts();
        IntVector key = bits.lanewise(VectorOperators.XOR,
                bits.lanewise(VectorOperators.ASHR, 31).lanewise(VectorOperators.AND, 0x7fffffff));
        VectorMask<Integer> nan = bits.lanewise(VectorOperators.AND, 0x7fffffff).compare(VectorOperators.GT, 0x7f800000);
        return key.blend(0x7ffffff0 + position, nan);
    }
}
