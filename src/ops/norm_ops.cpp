// CPU reference of the normalization ops (ops.h). Every op walks NCHW plane by plane; the only
// difference between Per::Channel and Per::Plane is which coefficient index a plane uses and, for
// reductions, whether planes of the same channel are summed together.
#include "mabdet/ops.h"
#include "ops/dispatch.h"
#include "ops/sum_kern.h"
#include "ops/parallel.h"

namespace mabdet::ops {
void norm_sum_cuda(const Shape& s, Per per, const float* x, float* out);
void norm_dot_cuda(const Shape& s, Per per, const float* a, const float* b, const float* center, float* out);
void norm_centered_sumsq_cuda(const Shape& s, Per per, const float* x, const float* center, float* out);
void norm_affine_cuda(const Shape& s, Per per, const float* x, const float* scale, const float* shift, float* y);
void norm_backward_cuda(const Shape& s, Per per, const float* dy, const float* a, const float* x,
                        const float* b, const float* c, float* dx, bool accumulate);

namespace {
size_t index_of(const Shape& s, Per per, int n, int c) { return per == Per::Channel ? size_t(c) : size_t(n) * s.c + c; }

// out[k] = sum over the planes of index k of plane_sum(offset of plane, k), in double.
template <class PlaneSum>
void reduce(const Shape& s, Per per, float* out, PlaneSum plane_sum) {
  const size_t hw = s.plane(), work = s.size();
  if (per == Per::Channel) {
    MABDET_PARALLEL_FOR(work)
    for (int c = 0; c < s.c; ++c) {
      double acc = 0;
      for (int n = 0; n < s.n; ++n) acc += plane_sum((size_t(n) * s.c + c) * hw, size_t(c));
      out[c] = float(acc);
    }
  } else {
    const int64_t planes = int64_t(s.n) * s.c;
    MABDET_PARALLEL_FOR(work)
    for (int64_t k = 0; k < planes; ++k) out[k] = float(plane_sum(size_t(k) * hw, size_t(k)));
  }
}
}  // namespace

void norm_sum(Device d, const Shape& s, Per per, const float* x, float* out) {
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("norm_sum", norm_sum_cuda(s, per, x, out));
  const size_t hw = s.plane();
  reduce(s, per, out, [&](size_t off, size_t) { return detail::sum_double(hw, [&](size_t i) { return double(x[off + i]); }); });
}

void norm_dot(Device d, const Shape& s, Per per, const float* a, const float* b, const float* center, float* out) {
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("norm_dot", norm_dot_cuda(s, per, a, b, center, out));
  const size_t hw = s.plane();
  reduce(s, per, out, [&](size_t off, size_t k) {
    const double m = center ? center[k] : 0.0;
    return detail::sum_double(hw, [&](size_t i) { return double(a[off + i]) * (double(b[off + i]) - m); });
  });
}

void norm_centered_sumsq(Device d, const Shape& s, Per per, const float* x, const float* center, float* out) {
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("norm_centered_sumsq", norm_centered_sumsq_cuda(s, per, x, center, out));
  const size_t hw = s.plane();
  reduce(s, per, out, [&](size_t off, size_t k) {
    const double m = center ? center[k] : 0.0;
    return detail::sum_double(hw, [&](size_t i) {
      const double v = double(x[off + i]) - m;
      return v * v;
    });
  });
}

void norm_affine(Device d, const Shape& s, Per per, const float* x, const float* scale, const float* shift, float* y) {
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("norm_affine", norm_affine_cuda(s, per, x, scale, shift, y));
  const size_t hw = s.plane();
  const int64_t planes = int64_t(s.n) * s.c;
  MABDET_PARALLEL_FOR(s.size())
  for (int64_t p = 0; p < planes; ++p) {
    const int n = int(p / s.c), c = int(p % s.c);
    const size_t k = index_of(s, per, n, c), off = size_t(p) * hw;
    const float a = scale ? scale[k] : 1.f, b = shift ? shift[k] : 0.f;
    for (size_t i = 0; i < hw; ++i) y[off + i] = x[off + i] * a + b;
  }
}

void norm_backward(Device d, const Shape& s, Per per, const float* dy, const float* a, const float* x,
                   const float* b, const float* c, float* dx, bool accumulate) {
  if (d == Device::CUDA)
    MABDET_CUDA_OR_FAIL("norm_backward", norm_backward_cuda(s, per, dy, a, x, b, c, dx, accumulate));
  MABDET_ASSERT(!b || x, "norm_backward: b needs x");
  const size_t hw = s.plane();
  const int64_t planes = int64_t(s.n) * s.c;
  MABDET_PARALLEL_FOR(s.size())
  for (int64_t p = 0; p < planes; ++p) {
    const int n = int(p / s.c), ch = int(p % s.c);
    const size_t k = index_of(s, per, n, ch), off = size_t(p) * hw;
    const float ak = a[k], bk = b ? b[k] : 0.f, ck = c ? c[k] : 0.f;
    float* o = dx + off;
    const float* g = dy + off;
    if (b && accumulate)
      for (size_t i = 0; i < hw; ++i) o[i] += ak * g[i] + bk * x[off + i] + ck;
    else if (b)
      for (size_t i = 0; i < hw; ++i) o[i] = ak * g[i] + bk * x[off + i] + ck;
    else if (accumulate)
      for (size_t i = 0; i < hw; ++i) o[i] += ak * g[i] + ck;
    else
      for (size_t i = 0; i < hw; ++i) o[i] = ak * g[i] + ck;
  }
}

}  // namespace mabdet::ops
