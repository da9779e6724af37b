package dev.jtrain.backend.cpu.gemm;

import dev.jtrain.backend.cpu.CpuThreads;

/**
 * NT products with many more columns than rows computed as the transposed product: C = alpha A B^T (beta = 0)
 * as T = alpha B A^T, then C = T^T.
 *
 * <p>Why: the packed GEMM copies A as it is stored but transposes B^T while packing it (16 x 16 vector
 * transposes), and B^T is the large operand of a Linear layer's forward at training batch sizes (x W^T: W is
 * out x in, x only batch x in). Swapping the operands transposes x instead, and then the m x n result once:
 * (n - m) k fewer floats transposed for m n more (mlp 784-512 at batch 128: 401 K floats down to 100 K + 65 K).
 *
 * <p>Same bits: every element of T is the same fma chain over the depth, in the same depth blocks and with the
 * same alpha, as the element of C it becomes (a b = b a exactly). Only beta = 0 takes this path: with beta,
 * C would have to be read into T first.
 */
final class SwappedNt {
    private SwappedNt() {}

    /** Off with {@code -Djtrain.gemm.swapNt=false} (benchmarks and tests compare both). */
    static final boolean ENABLED = Boolean.parseBoolean(System.getProperty("jtrain.gemm.swapNt", "true"));

    /**
     * Whether the swap pays: it trades transposing (n - m) k floats of B for copying them, and costs writing the
     * m n result to T, reading it back and transposing it. Measured (`bench gemm`, one thread, pinned, swap on
     * against off): 64x512x784 +13-16 %, 128x512x784 +5-8 %, 128x512x512 and 64x288x196 no gain, so the saving
     * must exceed four times the result.
     */
    static boolean pays(int m, int n, int k) {
        // T must fit one Java array
        return ENABLED && (long) (n - m) * k > 4L * m * n && (long) m * n <= Integer.MAX_VALUE - 8;
    }

    static void run(GemmKernel kern, int threads, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                    float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        // the calling thread's (the GEMM below uses only that workspace's packing buffers)
        float[] t = GemmWorkspace.get().swapped(m * n);
        // T [n x m] = alpha B A^T: B (n x k) as a plain A, A (m x k) as a transposed B
        Sgemm.sgemm(kern, threads, false, true, n, m, k, alpha, b, bOff, ldb, a, aOff, lda, 0f, t, 0, m);
        int blocks = (m + BLOCK - 1) / BLOCK;
        int tasks = threads <= 1 || (long) m * n < PARALLEL_MIN ? 1 : Math.min(threads, blocks);
        if (tasks == 1) {
            kern.transposeInto(t, n, m, 0, m, c, cOff, ldc);
            return;
        }
        CpuThreads.parallelFor(tasks, task -> {
            int r0 = (int) ((long) blocks * task / tasks) * BLOCK;
            int r1 = Math.min(m, (int) ((long) blocks * (task + 1) / tasks) * BLOCK);
            kern.transposeInto(t, n, m, r0, r1, c, cOff, ldc);
        });
    }

    /** {@link GemmKernel#transposeInto} for columns [j0, n) of C, in 16-row strips (T read along its rows). */
    static void transposeScalar(float[] t, int n, int m, int r0, int r1, int j0, float[] c, int co, int ldc) {
        for (int i0 = r0; i0 < r1; i0 += BLOCK) {
            int i1 = Math.min(r1, i0 + BLOCK);
            for (int j = j0; j < n; j++) {
                int src = j * m;
                for (int i = i0; i < i1; i++) {
                    c[co + i * ldc + j] = t[src + i];
                }
            }
        }
    }

    /** Rows of C per transpose step (one 16 x 16 block high). */
    private static final int BLOCK = 16;

    /** Results below this many floats are transposed on one thread. */
    private static final long PARALLEL_MIN = 1 << 15;
}
