// CUDA twins of the row-wise ops (rows.cpp): one block per row for the row reductions (max in
// float, sums in double, as the CPU does), one thread per element for the softmax gradient.
#include <cstdint>

#include "mabdet/ops.h"
#include "ops/cuda_common.h"
#include "ops/cuda_reduce.h"

namespace mabdet::ops {
namespace {
// Each thread reads and then writes only its own columns, so y may alias x.
__global__ void center_rows_k(int cols, const float* x, float* y) {
  const float* xr = x + size_t(blockIdx.x) * cols;
  float* yr = y + size_t(blockIdx.x) * cols;
  double sum = 0;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) sum += double(xr[i]);
  sum = block_allreduce(sum, SumOp());
  const float mean = float(sum / cols);
  for (int i = threadIdx.x; i < cols; i += blockDim.x) yr[i] = xr[i] - mean;
}

__global__ void softmax_cross_entropy_k(int cols, const float* x, const int32_t* labels, float* prob, float* loss) {
  const int r = blockIdx.x;
  const float* xr = x + size_t(r) * cols;
  float* pr = prob + size_t(r) * cols;
  float mx = -INFINITY;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) mx = fmaxf(mx, xr[i]);
  mx = block_allreduce(mx, MaxOp());
  double sum = 0;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    const float e = expf(xr[i] - mx);
    pr[i] = e;
    sum += double(e);
  }
  sum = block_allreduce(sum, SumOp());
  const float inv = float(1.0 / sum);
  for (int i = threadIdx.x; i < cols; i += blockDim.x) pr[i] *= inv;
  // -log p[label] = log(sum exp(x - mx)) - (x[label] - mx)
  if (labels && threadIdx.x == 0) loss[r] = float(log(sum) - double(xr[labels[r]] - mx));
}

__global__ void softmax_cross_entropy_backward_k(int cols, const float* prob, const int32_t* labels, float scale,
                                                 float* dx, size_t n) {
  const size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const size_t r = i / cols;
  float v = dx[i] + scale * prob[i];
  if (int32_t(i % cols) == labels[r]) v -= scale;
  dx[i] = v;
}
}  // namespace

void center_rows_cuda(int rows, int cols, const float* x, float* y) {
  if (rows <= 0 || cols <= 0) return;
  center_rows_k<<<unsigned(rows), reduce_threads(size_t(cols))>>>(cols, x, y);
  MABDET_CUDA_LAUNCH("center_rows");
}

void softmax_cross_entropy_cuda(int rows, int cols, const float* x, const int32_t* labels, float* prob, float* loss) {
  if (rows <= 0 || cols <= 0) return;
  softmax_cross_entropy_k<<<unsigned(rows), reduce_threads(size_t(cols))>>>(cols, x, labels, prob, loss);
  MABDET_CUDA_LAUNCH("softmax_cross_entropy");
}

void softmax_cross_entropy_backward_cuda(int rows, int cols, const float* prob, const int32_t* labels, float scale,
                                         float* dx) {
  if (rows <= 0 || cols <= 0) return;
  const size_t n = size_t(rows) * cols;
  softmax_cross_entropy_backward_k<<<blocks_for(n), 256>>>(cols, prob, labels, scale, dx, n);
  MABDET_CUDA_LAUNCH("softmax_cross_entropy_backward");
}

}  // namespace mabdet::ops
