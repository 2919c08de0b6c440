// Shared by the .cu files: error checks that become mabdet::Error naming the failed call, its file
// and line; launch geometry; and the one cuBLAS handle (created on first use; per-process, like
// the CUDA context itself).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "mabdet/error.h"

namespace mabdet::ops {
inline void cuda_check(cudaError_t e, const char* call, const char* file, int line) {
  if (e != cudaSuccess) fail("CUDA error in ", call, " (", file, ":", line, "): ", cudaGetErrorString(e));
}
inline void cublas_check(cublasStatus_t s, const char* call, const char* file, int line) {
  if (s != CUBLAS_STATUS_SUCCESS) fail("cuBLAS error in ", call, " (", file, ":", line, "): status ", int(s));
}
inline unsigned blocks_for(size_t n, unsigned threads = 256) { return unsigned((n + threads - 1) / threads); }
cublasHandle_t cublas();
}  // namespace mabdet::ops

#define MABDET_CUDA(call) ::mabdet::ops::cuda_check((call), #call, __FILE__, __LINE__)
#define MABDET_CUBLAS(call) ::mabdet::ops::cublas_check((call), #call, __FILE__, __LINE__)
// After a kernel launch: a bad configuration shows here; faults inside it at the next sync.
#define MABDET_CUDA_LAUNCH(kernel) \
  ::mabdet::ops::cuda_check(cudaGetLastError(), "the launch of kernel " kernel, __FILE__, __LINE__)
