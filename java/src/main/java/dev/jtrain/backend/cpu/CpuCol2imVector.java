package dev.jtrain.backend.cpu;

import dev.jtrain.backend.ConvSpec;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link CpuConv#col2im} for stride 1, a vector of one input row at a time: the input gradient dx[c, hh, ww] is the
 * sum over the kernel taps (u, v) of dcol[(c, u, v), hh + ph - u, ww + pw - v], and for one (hh, u, v) those terms are
 * a contiguous run of dcol shifted by v. So each vector of a dx row is one accumulator that takes, tap by tap, a
 * vector load of dcol at the shifted run with the lanes outside it cleared (an AND with a 0/-1 lane mask; no masked
 * Vector API call, none of which is an intrinsic on JDK 17), and is stored once.
 *
 * <p>The taps are added in the scalar loop's order (u, then v) starting from 0, so every element gets the same
 * roundings as {@link CpuConv#col2im}: the same bits (tested). The scalar loop adds runs of ow floats (10 in LeNet's
 * conv2) to scattered places, ~1 ns per element; here it is ~4 vector operations per tap and dx row.
 *
 * <p>Kept to the JDK 17 rules of {@link CpuPoolingVector}: the vector loop is one flat loop over precomputed offsets
 * (the taps of one dx row), with one accumulator. Its loads run up to {@code L + kw} floats past either end of the
 * runs they use; {@link #fits} says whether the array has that room (the caller pads its buffer), else the caller
 * takes the scalar loop. Only referenced behind {@link CpuSimd#VECTOR}.
 */
final class CpuCol2imVector {
    private CpuCol2imVector() {
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final int L = F.length();

    /** Floats a dcol buffer needs before the first and after the last run it holds. */
    static int slack(ConvSpec s) {
        return L + s.kernelW() + s.padW();
    }

    static boolean applies(ConvSpec s) {
        return s.strideH() == 1 && s.strideW() == 1 && I.length() == L;
    }

    /** Whether every load of a sample whose runs start at colOff (rows ld apart, k rows) stays inside dcol. */
    static boolean fits(float[] dcol, int colOff, int ld, int k, ConvSpec s) {
        return colOff - slack(s) >= 0 && (long) colOff + (long) (k - 1) * ld + ld + slack(s) <= dcol.length;
    }

    /**
     * The taps of one sample's dx rows, independent of the channel: for dx row hh and lane block b (lanes
     * [bL, bL + L) of the row), the dcol offsets (relative to the channel's first run) and lane-mask offsets of
     * its taps, in the scalar order.
     */
    static final class Plan {
        final int oh;
        final int ow;
        final int ld;
        final ConvSpec spec;
        final float[] scratch = new float[L];   // the last partial vector of a row
        final int h;
        final int wd;
        final int blocks;
        final int[] start;   // taps of (hh, b) are [start[hh * blocks + b], start[hh * blocks + b + 1])
        final int[] src;
        final int[] mask;
        final int[] laneMasks;

        Plan(int h, int wd, int oh, int ow, int ld, ConvSpec s) {
            this.oh = oh;
            this.ow = ow;
            this.ld = ld;
            this.spec = s;
            this.h = h;
            this.wd = wd;
            this.blocks = (wd + L - 1) / L;
            int kh = s.kernelH();
            int kw = s.kernelW();
            int ph = s.padH();
            int pw = s.padW();
            // lanes [L, L + ow) are -1: the mask of a run whose first element sits at lane d starts at L - d
            laneMasks = new int[2 * L + ow];
            java.util.Arrays.fill(laneMasks, L, L + ow, -1);
            start = new int[h * blocks + 1];
            int[] srcs = new int[h * blocks * kh * kw];
            int[] masks = new int[srcs.length];
            int n = 0;
            for (int hh = 0; hh < h; hh++) {
                for (int b = 0; b < blocks; b++) {
                    start[hh * blocks + b] = n;
                    for (int u = 0; u < kh; u++) {
                        int i = hh + ph - u;
                        if (i < 0 || i >= oh) {
                            continue;
                        }
                        for (int v = 0; v < kw; v++) {
                            int d = v - pw - b * L;  // lane of the run's element j = 0
                            if (d >= L || d + ow <= 0) {
                                continue;            // no element of this run lands in the block
                            }
                            srcs[n] = (u * kw + v) * ld + i * ow - d;
                            masks[n] = L - d;
                            n++;
                        }
                    }
                }
            }
            start[h * blocks] = n;
            src = java.util.Arrays.copyOf(srcs, n);
            mask = java.util.Arrays.copyOf(masks, n);
        }
    }

    /** The last plan this thread used (chunks of one layer share it), so a step allocates nothing here. */
    private static final ThreadLocal<Plan> LAST = new ThreadLocal<>();

    /** A plan for these sizes: this thread's last one when it matches. */
    static Plan plan(int h, int wd, int oh, int ow, int ld, ConvSpec s) {
        Plan p = LAST.get();
        if (p == null || p.h != h || p.wd != wd || p.oh != oh || p.ow != ow || p.ld != ld || !p.spec.equals(s)) {
            p = new Plan(h, wd, oh, ow, ld, s);
            LAST.set(p);
        }
        return p;
    }

    /**
     * dx[sample at xOff] from its columns in dcol at colOff (rows ld apart), overwriting, for stride 1; the caller
     * has checked {@link #fits}; the plan is for this sample's sizes.
     */
    static void col2im(float[] dcol, int colOff, int ld, int cin, ConvSpec s, Plan plan, float[] dx, int xOff) {
        float[] scratch = plan.scratch;
        int taps = s.kernelH() * s.kernelW();
        int plane = plan.h * plan.wd;
        for (int c = 0; c < cin; c++) {
            int base = colOff + c * taps * ld;
            int out = xOff + c * plane;
            for (int hh = 0; hh < plan.h; hh++) {
                for (int b = 0; b < plan.blocks; b++) {
                    int q = hh * plan.blocks + b;
                    int at = out + hh * plan.wd + b * L;
                    int lanes = Math.min(L, plan.wd - b * L);
                    if (lanes == L) {
                        accumulate(dcol, base, plan.src, plan.mask, plan.laneMasks, plan.start[q], plan.start[q + 1],
                                dx, at);
                    } else {
                        accumulate(dcol, base, plan.src, plan.mask, plan.laneMasks, plan.start[q], plan.start[q + 1],
                                scratch, 0);
                        System.arraycopy(scratch, 0, dx, at, lanes);
                    }
                }
            }
        }
    }

    /** dst[at, at + L) = the sum over taps [from, to) of dcol at base + src[t], lanes masked by laneMasks at mask[t]. */
    private static void accumulate(float[] dcol, int base, int[] src, int[] mask, int[] laneMasks, int from, int to,
                                   float[] dst, int at) {
        FloatVector acc = FloatVector.zero(F);
        for (int t = from; t < to; t++) {
            IntVector keep = IntVector.fromArray(I, laneMasks, mask[t]);
            IntVector run = FloatVector.fromArray(F, dcol, base + src[t]).reinterpretAsInts();
            acc = acc.add(run.and(keep).reinterpretAsFloats());
        }
        acc.intoArray(dst, at);
    }
}
