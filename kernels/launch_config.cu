// The exported launch decisions (launch_config.h) that live in common.cuh; the others are defined beside
// their kernels (batchnorm.cu, gemm.cu, reduce.cu).
#include "launch_config.h"

extern "C" unsigned jt_launch_grid_1d(int64_t n, int threads) { return jt_grid_1d(n, threads); }

extern "C" unsigned jt_launch_grid_fill(int64_t work_blocks, int sm_count, int blocks_per_sm) {
    // A device that reports nothing usable still gets a working (if small) grid.
    const int64_t sms = sm_count < 1 ? 1 : sm_count;
    const int64_t per_sm = blocks_per_sm < 1 ? 1 : blocks_per_sm;
    int64_t blocks = (int64_t)JT_FILL_WAVES * sms * per_sm;
    if (work_blocks < blocks) blocks = work_blocks;
    if (blocks < 1) blocks = 1;
    if (blocks > 0x7FFFFFFF) blocks = 0x7FFFFFFF;
    return (unsigned)blocks;
}
