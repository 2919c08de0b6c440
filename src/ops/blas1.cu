// CUDA twin of ops::copy (blas1.cpp); axpy and scale live in elementwise.cu.
#include "mabdet/ops.h"
#include "ops/cuda_common.h"

namespace mabdet::ops {

// Ordered with the kernels on the default stream, so no host synchronization is needed.
void copy_cuda(size_t n, const float* x, float* y) {
  if (!n) return;
  MABDET_CUDA(cudaMemcpyAsync(y, x, n * sizeof(float), cudaMemcpyDeviceToDevice, 0));
}

}  // namespace mabdet::ops
