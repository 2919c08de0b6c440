// CUDA memory for Tensor and the process's GPU choice (GPU=1 builds only). Every CUDA error
// becomes a mabdet::Error naming the call, file and line.
#include <cuda_runtime.h>

#include "mabdet/device_choice.h"
#include "mabdet/tensor.h"
#include "ops/cuda_common.h"

namespace mabdet {
namespace detail {
void* cuda_alloc(size_t bytes) {
  void* p = nullptr;
  const cudaError_t e = cudaMalloc(&p, bytes ? bytes : 4);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clears it, so that the next call does not report it again
    throw AllocError(cat("out of GPU memory allocating ", bytes, " bytes"));
  }
  MABDET_CUDA(e);
  return p;
}
void cuda_free(void* p) { cudaFree(p); }
void cuda_copy(void* dst, bool dst_dev, const void* src, bool src_dev, size_t bytes) {
  cudaMemcpyKind k = dst_dev ? (src_dev ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                             : (src_dev ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  MABDET_CUDA(cudaMemcpy(dst, src, bytes, k));
}
void cuda_zero(void* p, size_t bytes) { MABDET_CUDA(cudaMemset(p, 0, bytes)); }
}  // namespace detail

int cuda_device_count() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}
void cuda_set_device(int i) { MABDET_CUDA(cudaSetDevice(i)); }
int cuda_current_device() {
  int i = 0;
  MABDET_CUDA(cudaGetDevice(&i));
  return i;
}
std::string cuda_device_label(int i) {
  cudaDeviceProp p;
  MABDET_CUDA(cudaGetDeviceProperties(&p, i));
  return cat(p.name, ", ", p.totalGlobalMem >> 20, " MiB, sm_", p.major, p.minor);
}
void device_sync(Device d) {
  if (d == Device::CUDA) MABDET_CUDA(cudaDeviceSynchronize());
}

bool cuda_available() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

}  // namespace mabdet
