package dev.jtrain.backend.cpu.gemm;

/**
 * Cache-blocking sizes of the SGEMM driver (GotoBLAS/BLIS loop order: nc, kc, mc around an
 * mr x nr register tile; see {@link GemmDriver}).
 *
 * <p>Why these values (measured on AMD EPYC Zen 5: 48 KiB L1d, 1 MiB L2 per core, 32 MiB shared L3,
 * and as the earlier prototype on Zen 4 found):
 * <ul>
 *   <li>{@link #KC} (depth of a packed panel) matters most: every micro-kernel call loads and stores
 *       its mr x nr block of C once, so a deep panel amortises that over kc rank-1 updates.
 *       128 ran at ~0.75x OpenBLAS, 512 at ~0.95x, 512..1024 at ~1.0x. When k is not a multiple
 *       of KC the depth is split evenly ({@link #kcFor}) so no block is a thin remainder.</li>
 *   <li>{@link #MC} (rows of A packed at once): the packed mc x kc block of A stays in L2
 *       (256 x 512 x 4 B = 512 KiB, half the L2) while the micro-kernel streams over it.</li>
 *   <li>{@link #NC} (columns of B packed at once): the packed kc x nc block of B is meant for L3;
 *       each kc x nr micro-panel of it (64 KiB at nr = 32) is reused across all mc/mr row tiles.
 *       B is packed once per kc block and per nc block.</li>
 * </ul>
 * Every value is a multiple of the tile sizes it is split into, and none of them depends on the
 * number of threads, so the result bits do not depend on the thread count either.
 */
final class GemmBlocking {
    private GemmBlocking() {}

    /** Largest depth of one packed panel. */
    static final int KC = Integer.getInteger("jtrain.gemm.kc", 512);
    /** Rows of A packed per block (rounded down to a multiple of mr by the driver). */
    static final int MC = Integer.getInteger("jtrain.gemm.mc", 256);
    /** Columns of B packed per block (rounded down to a multiple of nr by the driver). */
    static final int NC = Integer.getInteger("jtrain.gemm.nc", 2048);

    /**
     * Problems with fewer multiply-adds (m*n*k) than this run on the calling thread only: a
     * hand-off to the pool costs a few microseconds, about what 2^18 fma's take on one core.
     */
    static final long PARALLEL_MIN_FMAS = Long.getLong("jtrain.gemm.parallelMin", 1L << 18);

    /** Depth of each kc block for a product of depth k: k split evenly into ceil(k/KC) blocks. */
    static int kcFor(int k) {
        int blocks = (k + KC - 1) / KC;
        return (k + blocks - 1) / blocks;
    }
}
