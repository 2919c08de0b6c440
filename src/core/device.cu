// CUDA memory for Tensor (GPU=1 builds only). Every CUDA error becomes a mabdet::Error.
#include <cuda_runtime.h>

#include "mabdet/tensor.h"

namespace mabdet {
namespace {
void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) fail("CUDA ", what, ": ", cudaGetErrorString(e));
}
}  // namespace

namespace detail {
void* cuda_alloc(size_t bytes) {
  void* p = nullptr;
  check(cudaMalloc(&p, bytes ? bytes : 4), "cudaMalloc");
  return p;
}
void cuda_free(void* p) { cudaFree(p); }
void cuda_copy(void* dst, bool dst_dev, const void* src, bool src_dev, size_t bytes) {
  cudaMemcpyKind k = dst_dev ? (src_dev ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                             : (src_dev ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  check(cudaMemcpy(dst, src, bytes, k), "cudaMemcpy");
}
void cuda_zero(void* p, size_t bytes) { check(cudaMemset(p, 0, bytes), "cudaMemset"); }
}  // namespace detail

bool cuda_available() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

}  // namespace mabdet
