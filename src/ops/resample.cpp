// Nearest-neighbour upsampling by an integer factor (FPN top-down path, darknet's [upsample]).
#include "mabdet/ops.h"
#include "ops/dispatch.h"
#include "ops/parallel.h"

namespace mabdet::ops {
void upsample_nearest_cuda(const Shape& in, int stride, const float* x, float* y);
void upsample_nearest_backward_cuda(const Shape& in, int stride, const float* dy, float* dx);

void upsample_nearest(Device d, const Shape& in, int stride, const float* x, float* y) {
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("upsample_nearest", upsample_nearest_cuda(in, stride, x, y));
  const int H = in.h, W = in.w, OW = W * stride;
  MABDET_PARALLEL_FOR(in.size())
  for (size_t p = 0; p < size_t(in.n) * in.c; ++p) {
    const float* xp = x + p * H * W;
    float* yp = y + p * H * W * stride * stride;
    for (int oy = 0; oy < H * stride; ++oy) {
      const float* xr = xp + size_t(oy / stride) * W;
      float* yr = yp + size_t(oy) * OW;
      for (int ox = 0; ox < OW; ++ox) yr[ox] = xr[ox / stride];
    }
  }
}

void upsample_nearest_backward(Device d, const Shape& in, int stride, const float* dy, float* dx) {
  if (d == Device::CUDA)
    MABDET_CUDA_OR_FAIL("upsample_nearest_backward", upsample_nearest_backward_cuda(in, stride, dy, dx));
  const int H = in.h, W = in.w, OW = W * stride;
  MABDET_PARALLEL_FOR(in.size())
  for (size_t p = 0; p < size_t(in.n) * in.c; ++p) {
    float* xp = dx + p * H * W;
    const float* yp = dy + p * H * W * stride * stride;
    for (int oy = 0; oy < H * stride; ++oy) {
      float* xr = xp + size_t(oy / stride) * W;
      const float* yr = yp + size_t(oy) * OW;
      for (int ox = 0; ox < OW; ++ox) xr[ox / stride] += yr[ox];
    }
  }
}

}  // namespace mabdet::ops
