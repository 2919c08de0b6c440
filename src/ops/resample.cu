// CUDA twins of nearest upsampling (resample.cpp). Forward: one thread per output pixel. Backward:
// one thread per input pixel sums its stride x stride block (a gather: no atomics, and the same
// row-major order as the CPU loop).
#include "mabdet/ops.h"
#include "ops/cuda_common.h"

namespace mabdet::ops {
namespace {
__global__ void upsample_nearest_k(int H, int W, int stride, const float* x, float* y, size_t n) {
  const size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const int OW = W * stride, OH = H * stride;
  const int ox = int(i % OW), oy = int(i / OW % OH);
  const size_t p = i / (size_t(OW) * OH);
  y[i] = x[(p * H + oy / stride) * W + ox / stride];
}

__global__ void upsample_nearest_backward_k(int H, int W, int stride, const float* dy, float* dx, size_t n) {
  const size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const int OW = W * stride, OH = H * stride;
  const int ix = int(i % W), iy = int(i / W % H);
  const size_t p = i / (size_t(W) * H);
  const float* yp = dy + (p * OH + size_t(iy) * stride) * OW + size_t(ix) * stride;
  float acc = dx[i];
  for (int r = 0; r < stride; ++r)
    for (int s = 0; s < stride; ++s) acc += yp[size_t(r) * OW + s];
  dx[i] = acc;
}
}  // namespace

void upsample_nearest_cuda(const Shape& in, int stride, const float* x, float* y) {
  if (stride <= 0) return;
  const size_t n = in.size() * stride * stride;
  if (!n) return;
  upsample_nearest_k<<<blocks_for(n), 256>>>(in.h, in.w, stride, x, y, n);
  MABDET_CUDA_LAUNCH("upsample_nearest");
}

void upsample_nearest_backward_cuda(const Shape& in, int stride, const float* dy, float* dx) {
  const size_t n = in.size();
  if (stride <= 0 || !n) return;
  upsample_nearest_backward_k<<<blocks_for(n), 256>>>(in.h, in.w, stride, dy, dx, n);
  MABDET_CUDA_LAUNCH("upsample_nearest_backward");
}

}  // namespace mabdet::ops
