// Row-wise ops: weight centring (MABN) and softmax / cross-entropy (the classification loss).
// Row statistics accumulate in double: rows are short, and the centring must cancel exactly enough
// that a centred filter's mean is zero to float precision.
#include <algorithm>
#include <cmath>

#include "mabdet/ops.h"
#include "ops/dispatch.h"
#include "ops/parallel.h"
#include "ops/sum_kern.h"

namespace mabdet::ops {
void center_rows_cuda(int rows, int cols, const float* x, float* y);
void softmax_cross_entropy_cuda(int rows, int cols, const float* x, const int32_t* labels, float* prob, float* loss);
void softmax_cross_entropy_backward_cuda(int rows, int cols, const float* prob, const int32_t* labels, float scale,
                                         float* dx);

void center_rows(Device d, int rows, int cols, const float* x, float* y) {
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("center_rows", center_rows_cuda(rows, cols, x, y));
  MABDET_PARALLEL_FOR(size_t(rows) * cols)
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + size_t(r) * cols;
    float* yr = y + size_t(r) * cols;
    const float mean = float(detail::sum_double(size_t(cols), [&](size_t i) { return double(xr[i]); }) / cols);
    for (int i = 0; i < cols; ++i) yr[i] = xr[i] - mean;
  }
}

void center_rows_add(Device d, int rows, int cols, float* x, float* y) {
  if (d == Device::CUDA) {
    center_rows(d, rows, cols, x, x);
    return axpy(d, size_t(rows) * cols, 1.f, x, y);
  }
  MABDET_PARALLEL_FOR(size_t(rows) * cols)
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + size_t(r) * cols;
    float* yr = y + size_t(r) * cols;
    const float mean = float(detail::sum_double(size_t(cols), [&](size_t i) { return double(xr[i]); }) / cols);
    for (int i = 0; i < cols; ++i) yr[i] += xr[i] - mean;
  }
}

void softmax_cross_entropy(Device d, int rows, int cols, const float* x, const int32_t* labels, float* prob,
                           float* loss) {
  if (d == Device::CUDA)
    MABDET_CUDA_OR_FAIL("softmax_cross_entropy", softmax_cross_entropy_cuda(rows, cols, x, labels, prob, loss));
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + size_t(r) * cols;
    float* pr = prob + size_t(r) * cols;
    float mx = xr[0];
    for (int i = 1; i < cols; ++i) mx = std::max(mx, xr[i]);
    double sum = 0;
    for (int i = 0; i < cols; ++i) {
      pr[i] = std::exp(xr[i] - mx);
      sum += pr[i];
    }
    const float inv = float(1.0 / sum);
    for (int i = 0; i < cols; ++i) pr[i] *= inv;
    // -log p[label] = log(sum exp(x - mx)) - (x[label] - mx)
    if (labels) loss[r] = float(std::log(sum) - (xr[labels[r]] - mx));
  }
}

void softmax_cross_entropy_backward(Device d, int rows, int cols, const float* prob, const int32_t* labels,
                                    float scale, float* dx) {
  if (d == Device::CUDA)
    MABDET_CUDA_OR_FAIL("softmax_cross_entropy_backward",
                        softmax_cross_entropy_backward_cuda(rows, cols, prob, labels, scale, dx));
  for (int r = 0; r < rows; ++r) {
    const float* pr = prob + size_t(r) * cols;
    float* dr = dx + size_t(r) * cols;
    for (int i = 0; i < cols; ++i) dr[i] += scale * pr[i];
    dr[labels[r]] -= scale;
  }
}

}  // namespace mabdet::ops
