// CUDA twins of the normalization ops (norm_ops.cpp). A statistic index k is the channel c
// (Per::Channel: the reduction runs over n, h, w) or the plane n*C + c (Per::Plane: over h, w).
// Reductions: one block per k, accumulating in double, so no atomics and a fixed summation order.
// Maps: one thread per element.
#include "mabdet/ops.h"
#include "ops/cuda_common.h"
#include "ops/cuda_reduce.h"

namespace mabdet::ops {
namespace {
enum class Red { Sum, Dot, CenteredSumsq };

// out[k] = sum over the elements of k of f(a, b, center[k]) (see Red).
template <Red R>
__global__ void norm_reduce_k(Shape s, bool per_plane, const float* a, const float* b, const float* center,
                              float* out) {
  const size_t k = blockIdx.x, hw = size_t(s.h) * s.w;
  const size_t count = per_plane ? hw : size_t(s.n) * hw;
  const double m = (R != Red::Sum && center) ? double(center[k]) : 0.0;
  double acc = 0;
  for (size_t j = threadIdx.x; j < count; j += blockDim.x) {
    // Per::Plane: plane k; Per::Channel: plane n*C + k for n = j / hw.
    const size_t i = per_plane ? k * hw + j : (j / hw * s.c + k) * hw + j % hw;
    if constexpr (R == Red::Sum) {
      acc += double(a[i]);
    } else if constexpr (R == Red::Dot) {
      acc += double(a[i]) * (double(b[i]) - m);
    } else {
      const double v = double(a[i]) - m;
      acc += v * v;
    }
  }
  acc = block_allreduce(acc, SumOp());
  if (threadIdx.x == 0) out[k] = float(acc);
}

// The coefficient index of element i.
__device__ size_t coef_index(const Shape& s, bool per_plane, size_t i) {
  const size_t p = i / (size_t(s.h) * s.w);  // plane n*C + c
  return per_plane ? p : p % size_t(s.c);
}

__global__ void norm_affine_k(Shape s, bool per_plane, const float* x, const float* scale, const float* shift,
                              float* y, size_t n) {
  const size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const size_t k = coef_index(s, per_plane, i);
  const float a = scale ? scale[k] : 1.f, b = shift ? shift[k] : 0.f;
  y[i] = x[i] * a + b;
}

__global__ void norm_backward_k(Shape s, bool per_plane, const float* dy, const float* a, const float* x,
                                const float* b, const float* c, float* dx, bool accumulate, size_t n) {
  const size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const size_t k = coef_index(s, per_plane, i);
  const float ak = a[k], ck = c ? c[k] : 0.f;
  const float v = b ? ak * dy[i] + b[k] * x[i] + ck : ak * dy[i] + ck;
  dx[i] = accumulate ? dx[i] + v : v;
}

template <Red R>
void norm_reduce(const char* what, const Shape& s, Per per, const float* a, const float* b, const float* center,
                 float* out) {
  const bool per_plane = per == Per::Plane;
  const size_t ks = per_plane ? size_t(s.n) * s.c : size_t(s.c);
  if (!ks) return;
  const size_t count = per_plane ? s.plane() : size_t(s.n) * s.plane();
  norm_reduce_k<R><<<unsigned(ks), reduce_threads(count)>>>(s, per_plane, a, b, center, out);
  ::mabdet::ops::cuda_check(cudaGetLastError(), what, __FILE__, __LINE__);
}
}  // namespace

void norm_sum_cuda(const Shape& s, Per per, const float* x, float* out) {
  norm_reduce<Red::Sum>("norm_sum", s, per, x, nullptr, nullptr, out);
}
void norm_dot_cuda(const Shape& s, Per per, const float* a, const float* b, const float* center, float* out) {
  norm_reduce<Red::Dot>("norm_dot", s, per, a, b, center, out);
}
void norm_centered_sumsq_cuda(const Shape& s, Per per, const float* x, const float* center, float* out) {
  norm_reduce<Red::CenteredSumsq>("norm_centered_sumsq", s, per, x, nullptr, center, out);
}

void norm_affine_cuda(const Shape& s, Per per, const float* x, const float* scale, const float* shift, float* y) {
  const size_t n = s.size();
  if (!n) return;
  norm_affine_k<<<blocks_for(n), 256>>>(s, per == Per::Plane, x, scale, shift, y, n);
  MABDET_CUDA_LAUNCH("norm_affine");
}

void norm_backward_cuda(const Shape& s, Per per, const float* dy, const float* a, const float* x,
                        const float* b, const float* c, float* dx, bool accumulate) {
  MABDET_ASSERT(!b || x, "norm_backward: b needs x");
  const size_t n = s.size();
  if (!n) return;
  norm_backward_k<<<blocks_for(n), 256>>>(s, per == Per::Plane, dy, a, x, b, c, dx, accumulate, n);
  MABDET_CUDA_LAUNCH("norm_backward");
}

}  // namespace mabdet::ops
