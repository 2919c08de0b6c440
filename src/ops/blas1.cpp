#include <cstring>

#include "mabdet/ops.h"
#include "ops/dispatch.h"
#include "ops/parallel.h"

namespace mabdet::ops {
void axpy_cuda(size_t n, float alpha, const float* x, float* y);
void scale_cuda(size_t n, float alpha, float* x);
void copy_cuda(size_t n, const float* x, float* y);

void axpy(Device d, size_t n, float alpha, const float* x, float* y) {
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("axpy", axpy_cuda(n, alpha, x, y));
  MABDET_PARALLEL_FOR(n)
  for (size_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

void scale(Device d, size_t n, float alpha, float* x) {
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("scale", scale_cuda(n, alpha, x));
  MABDET_PARALLEL_FOR(n)
  for (size_t i = 0; i < n; ++i) x[i] *= alpha;
}

void copy(Device d, size_t n, const float* x, float* y) {
  // An empty batch's tensors may never have been allocated, and memcpy of null is undefined even for 0 bytes.
  if (n == 0) return;
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("copy", copy_cuda(n, x, y));
  std::memcpy(y, x, n * sizeof(float));
}

}  // namespace mabdet::ops
