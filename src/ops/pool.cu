// CUDA twins of the pooling ops (pool.cpp). One thread per output everywhere, so nothing races:
// maxpool_backward is a gather (one thread per input pixel collects the outputs whose argmax names
// it) rather than an atomicAdd scatter, which also keeps the CPU's summation order bit for bit.
#include "mabdet/ops.h"
#include "ops/cuda_common.h"
#include "ops/cuda_reduce.h"

namespace mabdet::ops {
namespace {
__global__ void maxpool_k(int H, int W, int oh, int ow, PoolGeom g, const float* x, float* y, int32_t* idx,
                          size_t n) {
  const size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const int ox = int(i % ow), oy = int(i / ow % oh);
  const float* xp = x + i / (size_t(ow) * oh) * size_t(H) * W;
  // The window clipped to the image: padding contributes no candidates, so it never wins.
  const int wy = oy * g.stride - g.pad, wx = ox * g.stride - g.pad;
  const int y0 = wy > 0 ? wy : 0, y1 = wy + g.size < H ? wy + g.size : H;
  const int x0 = wx > 0 ? wx : 0, x1 = wx + g.size < W ? wx + g.size : W;
  float best = -INFINITY;
  int32_t arg = y0 * W + x0;
  for (int iy = y0; iy < y1; ++iy)
    for (int ix = x0; ix < x1; ++ix)
      if (xp[iy * W + ix] > best) {  // strict: ties keep the first in row-major order
        best = xp[iy * W + ix];
        arg = iy * W + ix;
      }
  y[i] = best;
  if (idx) idx[i] = arg;
}

// One thread per input pixel (iy, ix) of plane p: the outputs whose window contains it are
// oy in [oy_lo, oy_hi] (oy*stride - pad <= iy < oy*stride - pad + size), likewise ox. It adds the dy
// of those whose argmax is this pixel in increasing output order, as the CPU loop does. This relies
// on idx[o] lying inside o's window, which maxpool guarantees whenever pad < size (the layer's rule:
// every window holds a real pixel).
__global__ void maxpool_backward_k(int H, int W, int oh, int ow, PoolGeom g, const float* dy, const int32_t* idx,
                                   float* dx, size_t n) {
  const size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const int ix = int(i % W), iy = int(i / W % H);
  const int32_t pos = iy * W + ix;
  const size_t obase = i / (size_t(W) * H) * size_t(oh) * ow;
  const int ty = iy + g.pad - g.size, tx = ix + g.pad - g.size;  // o*stride > t
  const int oy_lo = ty < 0 ? 0 : ty / g.stride + 1, ox_lo = tx < 0 ? 0 : tx / g.stride + 1;
  const int oy_hi = min((iy + g.pad) / g.stride, oh - 1), ox_hi = min((ix + g.pad) / g.stride, ow - 1);
  float acc = dx[i];
  for (int oy = oy_lo; oy <= oy_hi; ++oy)
    for (int ox = ox_lo; ox <= ox_hi; ++ox) {
      const size_t o = obase + size_t(oy) * ow + ox;
      if (idx[o] == pos) acc += dy[o];
    }
  dx[i] = acc;
}

// One block per plane, summed in double.
__global__ void plane_mean_k(size_t hw, const float* x, float* y) {
  const float* xp = x + blockIdx.x * hw;
  double sum = 0;
  for (size_t j = threadIdx.x; j < hw; j += blockDim.x) sum += double(xp[j]);
  sum = block_allreduce(sum, SumOp());
  if (threadIdx.x == 0) y[blockIdx.x] = float(sum / double(hw));
}

__global__ void plane_mean_backward_k(size_t hw, const float* dy, float* dx, size_t n) {
  const size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i < n) dx[i] += dy[i / hw] / float(hw);
}
}  // namespace

void maxpool_cuda(const Shape& in, const PoolGeom& g, const float* x, float* y, int32_t* idx) {
  const int oh = g.out(in.h), ow = g.out(in.w);
  if (oh <= 0 || ow <= 0) return;
  const size_t n = size_t(in.n) * in.c * oh * ow;
  if (!n) return;
  maxpool_k<<<blocks_for(n), 256>>>(in.h, in.w, oh, ow, g, x, y, idx, n);
  MABDET_CUDA_LAUNCH("maxpool");
}

void maxpool_backward_cuda(const Shape& in, const PoolGeom& g, const float* dy, const int32_t* idx, float* dx) {
  const int oh = g.out(in.h), ow = g.out(in.w);
  const size_t n = in.size();
  if (oh <= 0 || ow <= 0 || !n) return;
  maxpool_backward_k<<<blocks_for(n), 256>>>(in.h, in.w, oh, ow, g, dy, idx, dx, n);
  MABDET_CUDA_LAUNCH("maxpool_backward");
}

void plane_mean_cuda(const Shape& in, const float* x, float* y) {
  const size_t planes = size_t(in.n) * in.c;
  if (!planes) return;
  plane_mean_k<<<unsigned(planes), reduce_threads(in.plane())>>>(in.plane(), x, y);
  MABDET_CUDA_LAUNCH("plane_mean");
}

void plane_mean_backward_cuda(const Shape& in, const float* dy, float* dx) {
  const size_t n = in.size();
  if (!n) return;
  plane_mean_backward_k<<<blocks_for(n), 256>>>(in.plane(), dy, dx, n);
  MABDET_CUDA_LAUNCH("plane_mean_backward");
}

}  // namespace mabdet::ops
