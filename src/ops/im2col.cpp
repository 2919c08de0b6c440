// im2col / col2im with stride, padding and dilation (CPU reference).
#include <algorithm>

#include "mabdet/ops.h"
#include "ops/dispatch.h"
#include "ops/parallel.h"

namespace mabdet::ops {
void im2col_cuda(const ConvGeom& g, const float* im, float* col);
void col2im_cuda(const ConvGeom& g, const float* col, float* im);

void im2col(Device d, const ConvGeom& g, const float* im, float* col) {
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("im2col", im2col_cuda(g, im, col));
  im2col_ld(d, g, im, col, size_t(g.out_h()) * g.out_w());
}

void im2col_ld(Device d, const ConvGeom& g, const float* im, float* col, size_t ld) {
  MABDET_ASSERT(d == Device::CPU, "im2col_ld runs on the host");
  const int oh = g.out_h(), ow = g.out_w();
  MABDET_PARALLEL_FOR(size_t(g.channels) * g.kh * g.kw * oh * ow)
  for (int c = 0; c < g.channels; ++c)
    for (int ky = 0; ky < g.kh; ++ky)
      for (int kx = 0; kx < g.kw; ++kx) {
        float* dst = col + ((size_t(c) * g.kh + ky) * g.kw + kx) * ld;
        const float* src = im + size_t(c) * g.height * g.width;
        for (int oy = 0; oy < oh; ++oy) {
          int iy = oy * g.stride_h - g.pad_h + ky * g.dil_h;
          float* row = dst + size_t(oy) * ow;
          if (iy < 0 || iy >= g.height) {
            for (int ox = 0; ox < ow; ++ox) row[ox] = 0.f;
            continue;
          }
          const float* srow = src + size_t(iy) * g.width;
          int ix0 = -g.pad_w + kx * g.dil_w;
          if (g.stride_w == 1) {  // one run inside the row, zeros either side (padding)
            const int lo = std::clamp(-ix0, 0, ow), hi = std::clamp(g.width - ix0, lo, ow);
            for (int ox = 0; ox < lo; ++ox) row[ox] = 0.f;
            for (int ox = lo; ox < hi; ++ox) row[ox] = srow[ix0 + ox];
            for (int ox = hi; ox < ow; ++ox) row[ox] = 0.f;
            continue;
          }
          for (int ox = 0; ox < ow; ++ox) {
            int ix = ox * g.stride_w + ix0;
            row[ox] = (ix >= 0 && ix < g.width) ? srow[ix] : 0.f;
          }
        }
      }
}

void col2im(Device d, const ConvGeom& g, const float* col, float* im) {
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("col2im", col2im_cuda(g, col, im));
  col2im_ld(d, g, col, im, size_t(g.out_h()) * g.out_w());
}

void col2im_ld(Device d, const ConvGeom& g, const float* col, float* im, size_t ld) {
  MABDET_ASSERT(d == Device::CPU, "col2im_ld runs on the host");
  const int oh = g.out_h(), ow = g.out_w();
  // Split by channel: every (ky, kx) of channel c adds into c's own plane, so no two threads add
  // into the same pixel.
  MABDET_PARALLEL_FOR(size_t(g.channels) * g.kh * g.kw * oh * ow)
  for (int c = 0; c < g.channels; ++c)
    for (int ky = 0; ky < g.kh; ++ky)
      for (int kx = 0; kx < g.kw; ++kx) {
        const float* src = col + ((size_t(c) * g.kh + ky) * g.kw + kx) * ld;
        float* dst = im + size_t(c) * g.height * g.width;
        for (int oy = 0; oy < oh; ++oy) {
          int iy = oy * g.stride_h - g.pad_h + ky * g.dil_h;
          if (iy < 0 || iy >= g.height) continue;
          float* drow = dst + size_t(iy) * g.width;
          const float* row = src + size_t(oy) * ow;
          const int ix0 = -g.pad_w + kx * g.dil_w;
          if (g.stride_w == 1) {
            const int lo = std::clamp(-ix0, 0, ow), hi = std::clamp(g.width - ix0, lo, ow);
            for (int ox = lo; ox < hi; ++ox) drow[ix0 + ox] += row[ox];
            continue;
          }
          for (int ox = 0; ox < ow; ++ox) {
            int ix = ox * g.stride_w - g.pad_w + kx * g.dil_w;
            if (ix >= 0 && ix < g.width) drow[ix] += row[ox];
          }
        }
      }
}

}  // namespace mabdet::ops
