// The exported launch decisions (launch_config.h) that live in common.cuh; the others are defined beside
// their kernels (batchnorm.cu, gemm.cu).
#include "launch_config.h"

extern "C" unsigned jt_launch_grid_1d(int64_t n, int threads) { return jt_grid_1d(n, threads); }
