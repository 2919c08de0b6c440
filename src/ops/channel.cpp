// Per-channel reductions and affine maps over NCHW; sums accumulate in double because a channel
// can hold millions of values (detection feature maps) and float sums drift.
#include "mabdet/ops.h"
#include "ops/dispatch.h"
#include "ops/sum_kern.h"
#include "ops/parallel.h"

namespace mabdet::ops {
void channel_affine_cuda(const Shape& s, const float* x, const float* scale, const float* shift, float* y);
void channel_sum_cuda(const Shape& s, const float* x, float* out, bool accumulate);
void channel_dot_cuda(const Shape& s, const float* a, const float* b, float* out, bool accumulate);

void channel_affine(Device d, const Shape& s, const float* x, const float* scale, const float* shift, float* y) {
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("channel_affine", channel_affine_cuda(s, x, scale, shift, y));
  const size_t hw = s.plane();
  const int64_t planes = int64_t(s.n) * s.c;
  MABDET_PARALLEL_FOR(s.size())
  for (int64_t p = 0; p < planes; ++p) {
    const int c = int(p % s.c);
    const float a = scale ? scale[c] : 1.f, b = shift ? shift[c] : 0.f;
    const float* xp = x + size_t(p) * hw;
    float* yp = y + size_t(p) * hw;
    for (size_t i = 0; i < hw; ++i) yp[i] = xp[i] * a + b;
  }
}

void channel_sum(Device d, const Shape& s, const float* x, float* out, bool accumulate) {
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("channel_sum", channel_sum_cuda(s, x, out, accumulate));
  const size_t hw = s.plane();
  MABDET_PARALLEL_FOR(s.size())
  for (int c = 0; c < s.c; ++c) {
    double acc = 0;
    for (int n = 0; n < s.n; ++n) {
      const float* xp = x + (size_t(n) * s.c + c) * hw;
      acc += detail::sum_double(hw, [&](size_t i) { return double(xp[i]); });
    }
    out[c] = float(accumulate ? out[c] + acc : acc);
  }
}

void channel_dot(Device d, const Shape& s, const float* a, const float* b, float* out, bool accumulate) {
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("channel_dot", channel_dot_cuda(s, a, b, out, accumulate));
  const size_t hw = s.plane();
  MABDET_PARALLEL_FOR(s.size())
  for (int c = 0; c < s.c; ++c) {
    double acc = 0;
    for (int n = 0; n < s.n; ++n) {
      const float* ap = a + (size_t(n) * s.c + c) * hw;
      const float* bp = b + (size_t(n) * s.c + c) * hw;
      acc += detail::sum_double(hw, [&](size_t i) { return double(ap[i]) * bp[i]; });
    }
    out[c] = float(accumulate ? out[c] + acc : acc);
  }
}

}  // namespace mabdet::ops
