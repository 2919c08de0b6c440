// Shared by the .cu files: error checks that become mabdet::Error, launch geometry, and the one
// cuBLAS handle (created on first use; per-process, like the CUDA context itself).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "mabdet/error.h"

namespace mabdet::ops {
inline void cuda_check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) fail("CUDA ", what, ": ", cudaGetErrorString(e));
}
inline void cuda_check_launch(const char* what) { cuda_check(cudaGetLastError(), what); }
inline unsigned blocks_for(size_t n, unsigned threads = 256) { return unsigned((n + threads - 1) / threads); }
cublasHandle_t cublas();
}  // namespace mabdet::ops
