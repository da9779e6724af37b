package dev.jtrain.backend.cpu.gemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jtrain.backend.cpu.CpuThreadPool;
import dev.jtrain.backend.cpu.CpuThreads;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sgemm against a float64 triple loop, for every transpose combination, on the Vector API path and
 * on the scalar path, with 1, 2 and 3 tasks on a 2-thread pool.
 *
 * <p>Error bound, per element: |C - C_ref| <= (k + 3) * 2^-24 * (|alpha| * sum_p |A_ip B_pj| +
 * |beta C_ij|) + tiny. This is the classical worst-case bound for a length-k float32 sum of products
 * (each of the k additions, with or without fma, rounds with relative error at most 2^-24 and the
 * errors add up at worst linearly), plus the roundings of alpha*acc, beta*C and the final add. Real
 * errors are ~sqrt(k) times smaller; the bound is still tight enough to catch any wrong or missing
 * term (a dropped product is ~1/k of the sum, far above k * 2^-24 of it for the k used here).
 */
class SgemmTest {
    private static final double U = Math.scalb(1.0, -24);
    private static CpuThreadPool pool;
    private CpuThreadPool.Binding bound;

    @BeforeAll
    static void twoThreads() {
        pool = new CpuThreadPool(2);
    }

    @AfterAll
    static void closePool() {
        pool.close();
    }

    @BeforeEach
    void bindTwoThreads() {
        bound = pool.bind(); // JUnit runs @BeforeEach, the test and @AfterEach on one thread
    }

    @AfterEach
    void unbind() {
        bound.close();
    }

    /**
     * The kernels to test: when the incubator module is present, the vector kernel Sgemm picks and
     * the other vector kernel (with this machine's vector width, so its tile is 4 x 3*VL); always
     * the scalar one.
     */
    private static List<GemmKernel> kernels() {
        List<GemmKernel> ks = new ArrayList<>();
        GemmKernel v = Sgemm.vectorKernelOrNull();
        if (v != null) {
            ks.add(v);
            ks.add(v instanceof VectorMicroKernel ? new VectorMicroKernelAvx2() : new VectorMicroKernel());
        }
        ks.add(new ScalarMicroKernel());
        return ks;
    }

    /** One problem with its inputs laid out with the given strides and offsets. */
    private static final class Case {
        final boolean ta, tb;
        final int m, n, k, lda, ldb, ldc, aOff, bOff, cOff;
        final float alpha, beta;
        final float[] a, b, c0;
        final double[] ref, bound;

        /** pad: extra leading-dimension elements per row; off: offset unit of the three arrays. */
        Case(boolean ta, boolean tb, int m, int n, int k, float alpha, float beta, int pad, int off,
             long seed) {
            this.ta = ta;
            this.tb = tb;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.beta = beta;
            this.lda = (ta ? m : k) + pad;
            this.ldb = (tb ? k : n) + pad;
            this.ldc = n + pad;
            this.aOff = off;
            this.bOff = 2 * off;
            this.cOff = 3 * off;
            SplittableRandom rnd = new SplittableRandom(seed);
            int aRows = ta ? k : m;
            int bRows = tb ? n : k;
            a = filled(aOff + Math.max(aRows, 1) * lda + off, rnd, aOff, aRows, ta ? m : k, lda, Float.NaN);
            b = filled(bOff + Math.max(bRows, 1) * ldb + off, rnd, bOff, bRows, tb ? k : n, ldb, Float.NaN);
            c0 = filled(cOff + Math.max(m, 1) * ldc + off, rnd, cOff, m, n, ldc, -7f);
            // beta == 0: C must not be read, so put NaN in the region
            if (beta == 0f) {
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        c0[cOff + i * ldc + j] = Float.NaN;
                    }
                }
            }
            ref = new double[m * n];
            bound = new double[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0, sa = 0;
                    for (int p = 0; p < k; p++) {
                        double x = (double) a(i, p) * b(p, j);
                        s += x;
                        sa += Math.abs(x);
                    }
                    double cij = beta == 0f ? 0 : c0[cOff + i * ldc + j];
                    ref[i * n + j] = alpha * s + beta * cij;
                    bound[i * n + j] = (k + 3) * U * (Math.abs(alpha) * sa + Math.abs(beta * cij))
                            + Float.MIN_NORMAL;
                }
            }
        }

        /**
         * A rows x cols matrix at off with stride ld, values in [-1, 1); every other element holds
         * {@code pad} (NaN for inputs, so reading outside a matrix shows up in the result).
         */
        private static float[] filled(int len, SplittableRandom rnd, int off, int rows, int cols, int ld,
                                      float pad) {
            float[] x = new float[len];
            java.util.Arrays.fill(x, pad);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    x[off + i * ld + j] = (float) (rnd.nextDouble() * 2 - 1);
                }
            }
            return x;
        }

        float a(int i, int p) {
            return ta ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
        }

        float b(int p, int j) {
            return tb ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
        }

        float[] run(GemmKernel kern, int tasks) {
            float[] c = c0.clone();
            Sgemm.sgemm(kern, tasks, ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return c;
        }

        /** The product by the packed loop nest alone, on one thread: no small path, no swapped NT. */
        float[] runPacked(GemmKernel kern) {
            float[] c = c0.clone();
            GemmDriver.run(kern, new GemmProblem(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff,
                    ldc), 0, m, 0, n);
            return c;
        }

        void check(float[] c, String what) {
            for (int i = 0; i < c.length; i++) {
                int rel = i - cOff;
                int row = rel >= 0 ? rel / ldc : -1;
                int col = rel >= 0 ? rel % ldc : -1;
                boolean inside = row >= 0 && row < m && col < n;
                if (!inside) {
                    if (Float.floatToRawIntBits(c[i]) != Float.floatToRawIntBits(c0[i])) {
                        fail(what + ": wrote outside C at index " + i);
                    }
                    continue;
                }
                double want = ref[row * n + col];
                double err = Math.abs(c[i] - want);
                if (!(err <= bound[row * n + col])) {
                    fail(String.format("%s: C[%d][%d] = %s, want %s (error %.3g > bound %.3g)",
                            what, row, col, c[i], want, err, bound[row * n + col]));
                }
            }
        }

        @Override
        public String toString() {
            return String.format("%s%s m=%d n=%d k=%d alpha=%s beta=%s lda=%d ldb=%d ldc=%d offs=%d/%d/%d",
                    ta ? "T" : "N", tb ? "T" : "N", m, n, k, alpha, beta, lda, ldb, ldc, aOff, bOff, cOff);
        }
    }

    /** Checks every kernel with 1, 2 and 3 tasks; the result bits must not depend on the task count. */
    private static void checkAll(Case cs) {
        for (GemmKernel kern : kernels()) {
            float[] one = cs.run(kern, 1);
            cs.check(one, kern.describe() + " " + cs + " 1 task");
            for (int tasks : new int[] {2, 3}) {
                float[] more = cs.run(kern, tasks);
                assertArrayEquals(one, more, kern.describe() + " " + cs + ": " + tasks
                        + " tasks gave different bits than 1");
            }
        }
    }

    private static final boolean[][] TRANSPOSES = {{false, false}, {false, true}, {true, false}, {true, true}};

    @Test
    void squareSizesAllTransposes() {
        for (boolean[] t : TRANSPOSES) {
            for (int s : new int[] {1, 2, 7, 8, 16, 33, 127}) {
                checkAll(new Case(t[0], t[1], s, s, s, 1f, 0f, 0, 0, 11 + s));
            }
        }
    }

    @Test
    void largeAndRaggedSizes() {
        // non-multiples of every block size: mr 4/8, nr 16/32, the 16-row A group, mc 256,
        // kc 512 (k = 1100 and 1031 split into 3 blocks), nc 2048 (n = 2085); rows that fit one mc block get
        // narrower blocks of a plain B (GemmBlocking.ncFor: 40 x 600 x 700 nn packs B in blocks of 352 columns), and 300 rows
        // get them only once tasks split the rows: the bits must not change with either
        int[][] sizes = {{1001, 999, 1031}, {300, 45, 1100}, {530, 70, 520}, {17, 2085, 3},
                         {257, 33, 129}, {9, 31, 17}, {3, 1, 700}, {1, 513, 65}, {40, 600, 700}, {300, 700, 600}};
        for (boolean[] t : TRANSPOSES) {
            for (int[] s : sizes) {
                if (s[0] * (long) s[1] * s[2] > 2e8 && (t[0] || t[1])) {
                    continue; // the 1000^3 case only once (NN), to keep the float64 reference quick
                }
                checkAll(new Case(t[0], t[1], s[0], s[1], s[2], 1f, 0f, 0, 0, s[0] + 7L * s[1]));
            }
        }
    }

    @Test
    void smallBatchRowsTakeTheUnpackedPath() {
        // m <= SmallGemm.MAX_ROWS with A not transposed (NN, NT) runs without packing: every row count up to the
        // limit and one above, column counts around the vector widths (4/8/16 lanes, blocks of 2 vectors, the
        // 64-column thread blocks), depths around the vector width, alpha/beta, strides and offsets
        float[][] ab = {{1f, 0f}, {-1.5f, 0.75f}};
        for (boolean tb : new boolean[] {false, true}) {
            for (int m = 1; m <= SmallGemm.MAX_ROWS + 1; m++) {
                for (int n : new int[] {1, 5, 16, 33, 130}) {
                    for (int k : new int[] {1, 15, 17, 100}) {
                        for (float[] x : ab) {
                            checkAll(new Case(false, tb, m, n, k, x[0], x[1], m % 3, m % 2, 31L * m + n + 7L * k));
                        }
                    }
                }
            }
        }
        // a Linear 784 -> 512 at batch 1 and 4 (forward NT and input-gradient NN shapes), above the threshold
        // where threads split the columns
        checkAll(new Case(false, true, 1, 512, 784, 1f, 0f, 0, 0, 5));
        checkAll(new Case(false, false, 4, 784, 512, 1f, 0f, 0, 0, 6));
    }

    @Test
    void smallPathVectorAndScalarNnGiveTheSameBits() {
        GemmKernel v = Sgemm.vectorKernelOrNull();
        org.junit.jupiter.api.Assumptions.assumeTrue(v != null, "jdk.incubator.vector is not enabled");
        for (int m : new int[] {1, 3, 4, 8}) {
            Case cs = new Case(false, false, m, 77, 45, -1.5f, 0.75f, 1, 1, 40 + m);
            assertArrayEquals(cs.run(new ScalarMicroKernel(), 1), cs.run(v, 1), "NN m=" + m);
        }
    }

    /** A vector kernel with its narrow edge form switched off: edge tiles are computed whole. */
    private static GemmKernel withoutNarrowEdges(GemmKernel k) {
        return new GemmKernel() {
            public int mr() {
                return k.mr();
            }

            public int nr() {
                return k.nr();
            }

            public String describe() {
                return k.describe() + " without narrow edges";
            }

            public SmallGemm small() {
                return k.small();
            }

            public void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc, float[] dst) {
                k.packA(transA, a, aOff, lda, i0, mc, p0, kc, dst);
            }

            public void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc, float[] dst) {
                k.packB(transB, b, bOff, ldb, p0, kc, j0, nc, dst);
            }

            public void setDepthA(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int co, int ldc) {
                k.setDepthA(kc, ap, ao, bp, bo, c, co, ldc);
            }

            public void setRowA(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int co, int ldc) {
                k.setRowA(kc, ap, ao, bp, bo, c, co, ldc);
            }

            public void storeTile(float[] t, float alpha, float beta, float[] c, int co, int ldc) {
                k.storeTile(t, alpha, beta, c, co, ldc);
            }

            public void storeEdge(float[] t, int rows, int cols, float alpha, float beta, float[] c, int co, int ldc) {
                k.storeEdge(t, rows, cols, alpha, beta, c, co, ldc);
            }
        };
    }

    @Test
    void narrowEdgeTilesGiveTheBitsOfWholeOnes() {
        for (GemmKernel k : kernels()) {
            if (k.narrowCols() == 0) {
                continue;
            }
            GemmKernel whole = withoutNarrowEdges(k);
            int nr = k.nr();
            // last panels of 1, narrowCols and narrowCols + 1 columns (the last one is not narrow), two depth blocks,
            // both A layouts, alpha/beta that go through storeEdge's both branches
            for (int tail : new int[] {1, k.narrowCols(), k.narrowCols() + 1}) {
                for (boolean ta : new boolean[] {false, true}) {
                    Case cs = new Case(ta, false, 21, 2 * nr + tail, 700, 1.5f, 0f, 1, 2, 70 + tail);
                    assertArrayEquals(cs.run(whole, 1), cs.run(k, 1), k.describe() + " " + cs);
                    Case cb = new Case(ta, true, 13, nr + tail, 33, -0.5f, 0.25f, 0, 1, 80 + tail);
                    assertArrayEquals(cb.run(whole, 2), cb.run(k, 2), k.describe() + " " + cb);
                    cs.check(cs.run(k, 1), k.describe() + " " + cs);
                    cb.check(cb.run(k, 1), k.describe() + " " + cb);
                }
            }
        }
    }

    @Test
    void plainADepthMajorGivesTheBitsOfRowPanels() {
        Assumptions.assumeTrue(GemmDriver.DEPTH_PLAIN_A, "jtrain.gemm.depthPlainA=false");
        int slab = GemmBlocking.MC / PackA.GROUP * PackA.GROUP;
        // more rows than one mc block (so the whole run packs A depth-major), a partial 16-row group, a depth with a
        // tail after its 16-deep blocks and two depth blocks; the reference runs the same product in slabs of at most
        // one mc block, which keep the row panels (the bits do not depend on the split)
        int[][] shapes = {{slab + 44, 70, 700}, {2 * slab + 3, 33, 37}};
        for (GemmKernel kern : kernels()) {
            for (int[] sh : shapes) {
                for (boolean tb : new boolean[] {false, true}) {
                    Case cs = new Case(false, tb, sh[0], sh[1], sh[2], 1.5f, 0.5f, 3, 2, sh[0] + sh[2]);
                    float[] whole = cs.runPacked(kern);
                    float[] slabs = cs.c0.clone();
                    GemmProblem pr = new GemmProblem(false, tb, cs.m, cs.n, cs.k, cs.alpha, cs.a, cs.aOff, cs.lda,
                            cs.b, cs.bOff, cs.ldb, cs.beta, slabs, cs.cOff, cs.ldc);
                    for (int r0 = 0; r0 < cs.m; r0 += slab) {
                        GemmDriver.run(kern, pr, r0, Math.min(cs.m, r0 + slab), 0, cs.n);
                    }
                    assertArrayEquals(slabs, whole, kern.describe() + " " + cs);
                    cs.check(whole, kern.describe() + " " + cs);
                }
            }
        }
    }

    @Test
    void swappedNtGivesTheBitsOfThePackedProduct() {
        Assumptions.assumeTrue(SwappedNt.ENABLED, "jtrain.gemm.swapNt=false");
        // {m, n, k}: one and two depth blocks, edges of 16-row strips and 16-column blocks, a result big enough
        // for a two-task transpose (40 x 1000)
        int[][] shapes = {{20, 600, 100}, {33, 517, 700}, {40, 1000, 200}, {9, 64, 80}};
        for (GemmKernel kern : kernels()) {
            for (int[] sh : shapes) {
                assertTrue(SwappedNt.pays(sh[0], sh[1], sh[2]), Arrays.toString(sh));
                for (float alpha : new float[] {1f, -1.5f}) {
                    for (int tasks : new int[] {1, 2}) {
                        Case cs = new Case(false, true, sh[0], sh[1], sh[2], alpha, 0f, 3, 2, sh[1] + tasks);
                        float[] c = cs.run(kern, tasks);
                        assertArrayEquals(cs.runPacked(kern), c, kern.describe() + " " + cs + " tasks " + tasks);
                        cs.check(c, kern.describe() + " " + cs);
                    }
                }
            }
        }
        // the rule: worth it only when B^T is much larger than A and the result
        assertFalse(SwappedNt.pays(128, 128, 3136));
        assertFalse(SwappedNt.pays(128, 512, 512));
        assertTrue(SwappedNt.pays(128, 512, 784));
    }

    @Test
    void alphaBetaStridesAndOffsets() {
        float[][] ab = {{1f, 0f}, {2.5f, 0f}, {-1.5f, 0.75f}, {1f, 1f}, {0.5f, -2f}};
        for (boolean[] t : TRANSPOSES) {
            for (float[] x : ab) {
                checkAll(new Case(t[0], t[1], 37, 70, 45, x[0], x[1], 5, 3, 99));
                checkAll(new Case(t[0], t[1], 64, 64, 600, x[0], x[1], 1, 1, 98));
            }
        }
    }

    @Test
    void betaZeroIgnoresNanInC() {
        for (GemmKernel kern : kernels()) {
            for (boolean[] t : TRANSPOSES) {
                Case cs = new Case(t[0], t[1], 40, 50, 30, 1f, 0f, 2, 1, 5);
                float[] c = cs.run(kern, 2);
                cs.check(c, kern.describe() + " " + cs);
                for (int i = 0; i < cs.m; i++) {
                    for (int j = 0; j < cs.n; j++) {
                        assertFalse(Float.isNaN(c[cs.cOff + i * cs.ldc + j]), "NaN leaked from C at " + i + "," + j);
                    }
                }
            }
        }
    }

    @Test
    void alphaZeroOrEmptyDepthScalesCWithoutReadingAB() {
        float[] a = {Float.NaN, Float.NaN, Float.NaN, Float.NaN};
        float[] b = {Float.NaN, Float.NaN, Float.NaN, Float.NaN};
        float[] c = {1f, 2f, 3f, 4f};
        Sgemm.sgemm(false, false, 2, 2, 2, 0f, a, 0, 2, b, 0, 2, 3f, c, 0, 2);
        assertArrayEquals(new float[] {3f, 6f, 9f, 12f}, c);
        Sgemm.sgemm(false, false, 2, 2, 2, 0f, a, 0, 2, b, 0, 2, 0f, c, 0, 2);
        assertArrayEquals(new float[] {0f, 0f, 0f, 0f}, c);
        float[] d = {Float.NaN, 5f, Float.NaN, 7f};
        Sgemm.sgemm(false, false, 2, 1, 0, 1f, new float[0], 0, 1, new float[0], 0, 1, 0f, d, 0, 2);
        assertArrayEquals(new float[] {0f, 5f, 0f, 7f}, d, "k = 0, beta = 0: C = 0, padding untouched");
        // empty C: nothing happens, arrays may be empty
        Sgemm.sgemm(true, true, 0, 0, 5, 1f, new float[0], 0, 1, new float[0], 0, 5, 1f, new float[0], 0, 1);
    }

    @Test
    void publicEntryMatchesReferenceAndReportsPath() {
        Case cs = new Case(false, true, 100, 90, 80, 1.25f, 0.5f, 3, 2, 17);
        float[] c = cs.c0.clone();
        Sgemm.sgemm(cs.ta, cs.tb, cs.m, cs.n, cs.k, cs.alpha, cs.a, cs.aOff, cs.lda, cs.b, cs.bOff, cs.ldb,
                cs.beta, c, cs.cOff, cs.ldc);
        cs.check(c, "Sgemm.sgemm " + cs);
        assertNotNull(Sgemm.simdPath());
        boolean incubator = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        assertEquals(incubator, Sgemm.simdPath().startsWith("Vector API"), Sgemm.simdPath());
    }

    @Test
    void vectorPathIsUsedWhenModulePresent() {
        Assumptions.assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
                "run with --add-modules jdk.incubator.vector");
        assertNotNull(Sgemm.vectorKernelOrNull());
        assertTrue(Sgemm.kernel() instanceof VectorMicroKernel || Sgemm.kernel() instanceof VectorMicroKernelAvx2);
    }

    @Test
    void badArgumentsNameTheArgument() {
        float[] a = new float[12];
        float[] b = new float[12];
        float[] c = new float[12];
        expectBad("m", () -> Sgemm.sgemm(false, false, -1, 3, 4, 1f, a, 0, 4, b, 0, 3, 0f, c, 0, 3));
        expectBad("n", () -> Sgemm.sgemm(false, false, 3, -2, 4, 1f, a, 0, 4, b, 0, 3, 0f, c, 0, 3));
        expectBad("k", () -> Sgemm.sgemm(false, false, 3, 3, -4, 1f, a, 0, 4, b, 0, 3, 0f, c, 0, 3));
        expectBad("lda", () -> Sgemm.sgemm(false, false, 3, 3, 4, 1f, a, 0, 3, b, 0, 3, 0f, c, 0, 3));
        expectBad("lda", () -> Sgemm.sgemm(true, false, 3, 3, 4, 1f, a, 0, 2, b, 0, 3, 0f, c, 0, 3));
        expectBad("ldb", () -> Sgemm.sgemm(false, false, 3, 3, 4, 1f, a, 0, 4, b, 0, 2, 0f, c, 0, 3));
        expectBad("ldb", () -> Sgemm.sgemm(false, true, 3, 3, 4, 1f, a, 0, 4, b, 0, 3, 0f, c, 0, 3));
        expectBad("ldc", () -> Sgemm.sgemm(false, false, 3, 3, 4, 1f, a, 0, 4, b, 0, 3, 0f, c, 0, 2));
        expectBad("a", () -> Sgemm.sgemm(false, false, 3, 3, 4, 1f, new float[11], 0, 4, b, 0, 3, 0f, c, 0, 3));
        expectBad("a", () -> Sgemm.sgemm(false, false, 3, 3, 4, 1f, a, 1, 4, b, 0, 3, 0f, c, 0, 3));
        expectBad("b", () -> Sgemm.sgemm(false, false, 3, 3, 4, 1f, a, 0, 4, new float[11], 0, 3, 0f, c, 0, 3));
        expectBad("c", () -> Sgemm.sgemm(false, false, 3, 3, 4, 1f, a, 0, 4, b, 0, 3, 0f, c, 4, 3));
        expectBad("c", () -> Sgemm.sgemm(false, false, 3, 3, 4, 1f, a, 0, 4, b, 0, 3, 0f, null, 0, 3));
        expectBad("aOff", () -> Sgemm.sgemm(false, false, 3, 3, 4, 1f, a, -1, 4, b, 0, 3, 0f, c, 0, 3));
    }

    private static void expectBad(String name, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().startsWith(name + " "), "message should name " + name + ": " + e.getMessage());
    }

    @Test
    void parallelForRunsEveryTaskOnceAndPropagatesErrors() {
        for (int tasks : new int[] {1, 2, 3, 17, 1000}) {
            AtomicIntegerArray hits = new AtomicIntegerArray(tasks);
            CpuThreads.parallelFor(tasks, hits::incrementAndGet);
            for (int i = 0; i < tasks; i++) {
                assertEquals(1, hits.get(i), "task " + i + " of " + tasks);
            }
        }
        // nested loops run inline instead of deadlocking
        AtomicIntegerArray nested = new AtomicIntegerArray(16);
        CpuThreads.parallelFor(4, i -> CpuThreads.parallelFor(4, j -> nested.incrementAndGet(i * 4 + j)));
        for (int i = 0; i < 16; i++) {
            assertEquals(1, nested.get(i));
        }
        IllegalStateException boom = assertThrows(IllegalStateException.class,
                () -> CpuThreads.parallelFor(8, i -> {
                    if (i == 5) {
                        throw new IllegalStateException("task 5");
                    }
                }));
        assertEquals("task 5", boom.getMessage());
        // the pool still works afterwards
        AtomicIntegerArray again = new AtomicIntegerArray(8);
        CpuThreads.parallelFor(8, again::incrementAndGet);
        for (int i = 0; i < 8; i++) {
            assertEquals(1, again.get(i));
        }
        assertThrows(IllegalArgumentException.class, () -> new CpuThreadPool(0));
    }

    @Test
    void insideAPoolTaskOnlyOneThreadIsAvailableAndTheGemmGivesTheSameBits() {
        assertEquals(2, CpuThreads.availableThreads(), "outside any loop: the configured threads");
        AtomicIntegerArray seen = new AtomicIntegerArray(8);
        CpuThreads.parallelFor(8, i -> seen.set(i, CpuThreads.availableThreads()));
        for (int i = 0; i < 8; i++) {
            assertEquals(1, seen.get(i), "task " + i + " (caller or worker): a nested loop would run inline");
        }
        // a GEMM large enough to split, called outside and inside a task: the same bits
        Case cs = new Case(false, false, 200, 300, 150, 1f, 0f, 0, 0, 77);
        float[] outside = cs.c0.clone();
        Sgemm.sgemm(false, false, cs.m, cs.n, cs.k, 1f, cs.a, cs.aOff, cs.lda, cs.b, cs.bOff, cs.ldb, 0f, outside,
                cs.cOff, cs.ldc);
        float[][] inside = new float[2][];
        CpuThreads.parallelFor(2, t -> {
            float[] c = cs.c0.clone();
            Sgemm.sgemm(false, false, cs.m, cs.n, cs.k, 1f, cs.a, cs.aOff, cs.lda, cs.b, cs.bOff, cs.ldb, 0f, c,
                    cs.cOff, cs.ldc);
            inside[t] = c;
        });
        assertArrayEquals(outside, inside[0]);
        assertArrayEquals(outside, inside[1]);
        cs.check(outside, "public entry outside a task");
    }
}
