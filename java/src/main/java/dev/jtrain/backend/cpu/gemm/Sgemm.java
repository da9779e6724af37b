package dev.jtrain.backend.cpu.gemm;

import dev.jtrain.backend.cpu.CpuThreads;

/**
 * Single-precision general matrix multiply on the CPU, row-major, multi-threaded through
 * {@link CpuThreads}.
 *
 * <p>Packed, cache-blocked GotoBLAS/BLIS-style loops ({@link GemmDriver}, {@link GemmBlocking})
 * around a register-tiled micro-kernel chosen once per JVM:
 * <ul>
 *   <li>{@link VectorMicroKernel} (Vector API, 8 x 2 vectors) when the JVM runs with
 *       {@code --add-modules jdk.incubator.vector} and the preferred vector has 4 or 16 floats
 *       (NEON, AVX-512), {@link VectorMicroKernelAvx2} (4 x 3 vectors) when it has 8 (AVX2, whose
 *       16 registers the 8 x 2 tile overflows: 50 vs 116 GFLOP/s measured with -XX:UseAVX=2);</li>
 *   <li>{@link ScalarMicroKernel} otherwise, or with {@code -Djtrain.gemm.scalar=true}; no class
 *       that touches the Vector API is loaded then.</li>
 * </ul>
 *
 * <p>Results are bit-identical for every thread count (see {@link GemmPartition}). Each element is
 * a sum in depth order, split into blocks of {@link GemmBlocking#kcFor(int)}, so its error versus
 * exact arithmetic is at most about k * 2^-24 * sum |a_ip b_pj|, as for any float32 BLAS (the tests
 * check that bound; typical errors are ~sqrt(k) times smaller).
 */
public final class Sgemm {
    private Sgemm() {}

    private static final GemmKernel KERNEL = chooseKernel();

    private static GemmKernel chooseKernel() {
        GemmKernel vector = vectorKernelOrNull();
        return vector != null ? vector : new ScalarMicroKernel();
    }

    /** The Vector API kernel, or null when {@code jdk.incubator.vector} is not in the boot layer. */
    static GemmKernel vectorKernelOrNull() {
        if (!Boolean.parseBoolean(System.getProperty("jtrain.gemm.scalar", "false"))
                && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            try {
                // Loaded by name only here, so the classes (and the incubator) are never touched otherwise.
                Class<?> probe = Class.forName("dev.jtrain.backend.cpu.gemm.VectorSpeciesProbe");
                int lanes = (Integer) probe.getDeclaredMethod("preferredFloatLanes").invoke(null);
                if (lanes >= 4) {
                    // 8 lanes means AVX2 on x86 (16 registers): the 4 x 3-vector tile fits them
                    String kernel = lanes == 8 ? "VectorMicroKernelAvx2" : "VectorMicroKernel";
                    Class<?> cls = Class.forName("dev.jtrain.backend.cpu.gemm." + kernel);
                    return (GemmKernel) cls.getDeclaredConstructor().newInstance();
                }
            } catch (ReflectiveOperationException | LinkageError e) {
                // fall through to the scalar kernel
            }
        }
        return null;
    }

    /** The kernel {@link #sgemm} uses. */
    static GemmKernel kernel() {
        return KERNEL;
    }

    /**
     * Which inner loop runs, for logs and benchmark reports: e.g. {@code "Vector API, 512-bit
     * (16 floats), tile 8x32"} or {@code "scalar (jdk.incubator.vector not enabled), tile 4x16"}.
     */
    public static String simdPath() {
        return KERNEL.describe();
    }

    /**
     * C = alpha * op(A) * op(B) + beta * C, row-major. op(A) is m x k, op(B) is k x n, C is m x n.
     * transA: A is stored k x m (row-major, lda >= m) and used transposed; else A is m x k
     * (lda >= k). Same for B (transB: stored n x k, ldb >= k; else k x n, ldb >= n). ldc >= n.
     * beta == 0 means C is not read (may hold NaN); alpha == 0 or k == 0 means A and B are not read.
     *
     * @throws IllegalArgumentException naming the argument, for negative sizes or offsets, a leading
     *     dimension below the row length, a null array, or an array too short for the region
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k,
                             float alpha, float[] a, int aOff, int lda,
                             float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc) {
        // inside a pool task the GEMM runs on its thread alone (same bits: they do not depend on the split)
        sgemm(KERNEL, CpuThreads.availableThreads(), transA, transB, m, n, k, alpha, a, aOff, lda,
                b, bOff, ldb, beta, c, cOff, ldc);
    }

    /** {@link #sgemm} with a chosen kernel and at most {@code threads} tasks (tests, benchmarks). */
    static void sgemm(GemmKernel kern, int threads, boolean transA, boolean transB, int m, int n, int k,
                      float alpha, float[] a, int aOff, int lda,
                      float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc) {
        if (m < 0) {
            throw new IllegalArgumentException("m must be >= 0 (got " + m + ")");
        }
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0 (got " + n + ")");
        }
        if (k < 0) {
            throw new IllegalArgumentException("k must be >= 0 (got " + k + ")");
        }
        checkMatrix("a", a, aOff, "lda", lda, transA ? k : m, transA ? m : k, transA ? "transA=true: A is k x m" : "transA=false: A is m x k");
        checkMatrix("b", b, bOff, "ldb", ldb, transB ? n : k, transB ? k : n, transB ? "transB=true: B is n x k" : "transB=false: B is k x n");
        checkMatrix("c", c, cOff, "ldc", ldc, m, n, "C is m x n");
        if (m == 0 || n == 0) {
            return;
        }
        if (alpha == 0f || k == 0) {
            scale(m, n, beta, c, cOff, ldc);
            return;
        }
        if (!transA && m <= SmallGemm.MAX_ROWS) {
            small(kern.small(), threads, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        if (transB && !transA && beta == 0f && SwappedNt.pays(m, n, k)) {
            SwappedNt.run(kern, threads, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
            return;
        }
        GemmProblem pr = new GemmProblem(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb,
                beta, c, cOff, ldc);
        if (threads <= 1 || (long) m * n * k < GemmBlocking.PARALLEL_MIN_FMAS) {
            GemmDriver.run(kern, pr, 0, m, 0, n);
            return;
        }
        GemmPartition part = GemmPartition.choose(m, n, k, kern.mr(), kern.nr(), threads, transA, transB);
        if (part.tasks() == 1) {
            GemmDriver.run(kern, pr, 0, m, 0, n);
            return;
        }
        CpuThreads.parallelFor(part.tasks(), t -> GemmDriver.run(kern, pr,
                part.rowStart(t), part.rowEnd(t), part.colStart(t), part.colEnd(t)));
    }

    /**
     * A few rows of A against all of B without packing ({@link SmallGemm}); threads split the columns in
     * blocks of 64 (every element is computed the same way, so the bits do not depend on the split).
     */
    private static void small(SmallGemm path, int threads, boolean transB, int m, int n, int k, float alpha,
                              float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta,
                              float[] c, int cOff, int ldc) {
        int tasks = threads <= 1 || (long) m * n * k < GemmBlocking.PARALLEL_MIN_FMAS ? 1 : Math.min(threads, (n + 63) / 64);
        if (tasks <= 1) {
            smallColumns(path, transB, m, 0, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        int per = ((n + 63) / 64 + tasks - 1) / tasks * 64;
        int blocks = (n + per - 1) / per;
        CpuThreads.parallelFor(blocks, t -> smallColumns(path, transB, m, t * per, Math.min(n, (t + 1) * per), k,
                alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc));
    }

    private static void smallColumns(SmallGemm path, boolean transB, int m, int j0, int j1, int k, float alpha,
                                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta,
                                     float[] c, int cOff, int ldc) {
        if (transB) {
            path.nt(m, j0, j1, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else {
            path.nn(m, j0, j1, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    /** C = beta * C (C = 0 when beta == 0, without reading C). */
    private static void scale(int m, int n, float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            int row = cOff + i * ldc;
            if (beta == 0f) {
                java.util.Arrays.fill(c, row, row + n, 0f);
            } else if (beta != 1f) {
                for (int j = 0; j < n; j++) {
                    c[row + j] *= beta;
                }
            }
        }
    }

    private static void checkMatrix(String name, float[] arr, int off, String ldName, int ld,
                                    int rows, int cols, String shape) {
        if (arr == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (off < 0) {
            throw new IllegalArgumentException(name + "Off must be >= 0 (got " + off + ")");
        }
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(ldName + " must be >= max(1, " + cols + ") for "
                    + shape + " (got " + ld + ")");
        }
        if (rows > 0 && cols > 0) {
            long need = off + (long) (rows - 1) * ld + cols;
            if (need > arr.length) {
                throw new IllegalArgumentException(name + " is too short: " + shape + " (" + rows + " x "
                        + cols + ", " + ldName + "=" + ld + ", " + name + "Off=" + off + ") needs "
                        + need + " elements, " + name + ".length is " + arr.length);
            }
        }
    }
}
