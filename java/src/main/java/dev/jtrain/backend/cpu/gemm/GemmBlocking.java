package dev.jtrain.backend.cpu.gemm;

/**
 * Cache-blocking sizes of the SGEMM driver (GotoBLAS/BLIS loop order: nc, kc, mc around an
 * mr x nr register tile; see {@link GemmDriver}).
 *
 * <p>Why these values (AMD EPYC Zen 5: 48 KiB L1d and 1 MiB L2 per core, 32 MiB shared L3; the
 * earlier Zen 4 prototype agreed):
 * <ul>
 *   <li>{@link #KC}, the depth of a packed panel, matters most: each micro-kernel call loads and
 *       stores its mr x nr block of C once, so a deep panel amortises that over kc rank-1 updates.
 *       The prototype ran at ~0.75x OpenBLAS with 128 and ~0.95-1.0x with 512-1024; here 384 lost
 *       3-6 % at n = 1024/2048, and 512, 768 and 1024 were within noise of each other. When k is
 *       not a multiple of KC the depth is split evenly ({@link #kcFor}), so no block is a thin
 *       remainder.</li>
 *   <li>{@link #MC}, the rows of A packed at once: the packed mc x kc block of A
 *       (256 x 512 x 4 B = 512 KiB, half the L2) stays in L2 while the micro-kernel streams over
 *       it; 128 and 384 were within noise.</li>
 *   <li>{@link #NC}, the columns of B packed at once: the packed kc x nc block of B is meant for
 *       L3; each kc x nr micro-panel of it (64 KiB at nr = 32) meets every A micro-panel of the
 *       mc block. B is packed once per kc block and nc block, A once per (nc, kc, mc) block.</li>
 * </ul>
 * None of the values depends on the number of threads, so neither do the result bits. The
 * {@code jtrain.gemm.*} system properties override them, for tuning experiments only.
 */
final class GemmBlocking {
    private GemmBlocking() {}

    /** Largest depth of one packed panel. */
    static final int KC = Math.max(16, Integer.getInteger("jtrain.gemm.kc", 512));
    /** Rows of A packed per block (rounded down to a multiple of {@link PackA#GROUP} by the driver). */
    static final int MC = Math.max(PackA.GROUP, Integer.getInteger("jtrain.gemm.mc", 256));
    /** Columns of B packed per block (rounded down to a multiple of nr by the driver). */
    static final int NC = Math.max(128, Integer.getInteger("jtrain.gemm.nc", 2048));

    /**
     * Most bytes of packed B per block when the rows of C fit one mc block ({@link #ncFor}): B is then read once,
     * right after it was packed, and a block that still sits in L2 (1 MiB here) is read from there, where a
     * 2048-column block (kc 512: 4 MiB) has spilled to L3 by the time the kernel reaches its first panel. Measured on
     * 64x784x512 nn: median 128 GFLOP/s with one block of all 784 columns, 160 with 256-column blocks (128x784x512
     * nn +11 %, 256x784x512 nn +7 %, three interleaved fresh-JVM pairs); large m is unchanged (B is reused by several A
     * blocks there, from L3 either way). Only for B not transposed: with the transposing pack the same rule measured
     * 4-7 % slower at 64..256x512x512 nt (not understood; left at {@link #NC}).
     */
    static final int ONE_PASS_B_BYTES = Math.max(4096, Integer.getInteger("jtrain.gemm.onePassBKiB", 512) * 1024);

    /**
     * Problems with fewer multiply-adds (m*n*k) than this run on the calling thread only: a
     * hand-off to the pool costs a few microseconds, about what 2^18 fma's take on one core.
     */
    static final long PARALLEL_MIN_FMAS = Math.max(0, Long.getLong("jtrain.gemm.parallelMin", 1L << 18));

    /**
     * Columns of B packed per block, before rounding down to a multiple of nr: {@link #NC}, or, for B not transposed
     * and rows that fit one mc block, as many columns as {@link #ONE_PASS_B_BYTES} hold at depth {@code kc} (never
     * fewer than 128).
     */
    static int ncFor(boolean transB, int rows, int mc, int kc) {
        if (transB || rows > mc) {
            return NC;
        }
        return Math.min(NC, Math.max(128, ONE_PASS_B_BYTES / (Float.BYTES * kc)));
    }

    /** Depth of each kc block for a product of depth k: k split evenly into ceil(k/KC) blocks. */
    static int kcFor(int k) {
        int blocks = (k + KC - 1) / KC;
        return (k + blocks - 1) / blocks;
    }
}
