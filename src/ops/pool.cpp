// Pooling: max pooling with argmax indices (for backward) and global average pooling.
#include <algorithm>
#include <limits>

#include "mabdet/ops.h"
#include "ops/dispatch.h"
#include "ops/sum_kern.h"
#include "ops/parallel.h"

namespace mabdet::ops {
void maxpool_cuda(const Shape& in, const PoolGeom& g, const float* x, float* y, int32_t* idx);
void maxpool_backward_cuda(const Shape& in, const PoolGeom& g, const float* dy, const int32_t* idx, float* dx);
void plane_mean_cuda(const Shape& in, const float* x, float* y);
void plane_mean_backward_cuda(const Shape& in, const float* dy, float* dx);

void maxpool(Device d, const Shape& in, const PoolGeom& g, const float* x, float* y, int32_t* idx) {
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("maxpool", maxpool_cuda(in, g, x, y, idx));
  const int H = in.h, W = in.w, oh = g.out(H), ow = g.out(W);
  MABDET_PARALLEL_FOR(in.size())
  for (size_t p = 0; p < size_t(in.n) * in.c; ++p) {
    const float* xp = x + p * H * W;
    float* yp = y + p * oh * ow;
    int32_t* ip = idx ? idx + p * oh * ow : nullptr;
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        // Clip the window to the image: padding contributes no candidates, so it never wins.
        const int y0 = std::max(oy * g.stride - g.pad, 0), y1 = std::min(oy * g.stride - g.pad + g.size, H);
        const int x0 = std::max(ox * g.stride - g.pad, 0), x1 = std::min(ox * g.stride - g.pad + g.size, W);
        float best = -std::numeric_limits<float>::infinity();
        int32_t arg = y0 * W + x0;
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix)
            if (xp[iy * W + ix] > best) {
              best = xp[iy * W + ix];
              arg = iy * W + ix;
            }
        yp[oy * ow + ox] = best;
        if (ip) ip[oy * ow + ox] = arg;
      }
  }
}

void maxpool_backward(Device d, const Shape& in, const PoolGeom& g, const float* dy, const int32_t* idx, float* dx) {
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("maxpool_backward", maxpool_backward_cuda(in, g, dy, idx, dx));
  const size_t plane = in.plane(), oplane = size_t(g.out(in.h)) * g.out(in.w);
  MABDET_PARALLEL_FOR(in.size())
  for (size_t p = 0; p < size_t(in.n) * in.c; ++p)
    for (size_t o = 0; o < oplane; ++o) dx[p * plane + idx[p * oplane + o]] += dy[p * oplane + o];
}

void plane_mean(Device d, const Shape& in, const float* x, float* y) {
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("plane_mean", plane_mean_cuda(in, x, y));
  const size_t hw = in.plane();
  MABDET_PARALLEL_FOR(in.size())
  for (size_t p = 0; p < size_t(in.n) * in.c; ++p) {
    y[p] = float(detail::sum_double(hw, [&](size_t i) { return double(x[p * hw + i]); }) / double(hw));
  }
}

void plane_mean_backward(Device d, const Shape& in, const float* dy, float* dx) {
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("plane_mean_backward", plane_mean_backward_cuda(in, dy, dx));
  const size_t hw = in.plane();
  MABDET_PARALLEL_FOR(in.size())
  for (size_t p = 0; p < size_t(in.n) * in.c; ++p) {
    const float g = dy[p] / float(hw);
    for (size_t i = 0; i < hw; ++i) dx[p * hw + i] += g;
  }
}

}  // namespace mabdet::ops
