// CUDA twins of im2col/col2im, activations, axpy/scale and the per-channel ops (same math as the
// CPU reference in the .cpp files; activation math shared through activation_kern.h).
#include "mabdet/ops.h"
#include "ops/activation_kern.h"
#include "ops/cuda_common.h"

namespace mabdet::ops {
namespace {
__global__ void im2col_k(ConvGeom g, int oh, int ow, const float* im, float* col, size_t n) {
  size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  int ox = int(i % ow), oy = int((i / ow) % oh);
  size_t row = i / (size_t(ow) * oh);  // (c, ky, kx)
  int kx = int(row % g.kw), ky = int((row / g.kw) % g.kh), c = int(row / (size_t(g.kw) * g.kh));
  int iy = oy * g.stride_h - g.pad_h + ky * g.dil_h, ix = ox * g.stride_w - g.pad_w + kx * g.dil_w;
  col[i] = (iy >= 0 && iy < g.height && ix >= 0 && ix < g.width) ? im[(size_t(c) * g.height + iy) * g.width + ix] : 0.f;
}

// One thread per image pixel gathers every column entry that maps onto it: no atomics needed.
__global__ void col2im_k(ConvGeom g, int oh, int ow, const float* col, float* im, size_t n) {
  size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  int x = int(i % g.width), y = int((i / g.width) % g.height), c = int(i / (size_t(g.width) * g.height));
  float acc = 0.f;
  for (int ky = 0; ky < g.kh; ++ky) {
    int ty = y + g.pad_h - ky * g.dil_h;
    if (ty < 0 || ty % g.stride_h) continue;
    int oy = ty / g.stride_h;
    if (oy >= oh) continue;
    for (int kx = 0; kx < g.kw; ++kx) {
      int tx = x + g.pad_w - kx * g.dil_w;
      if (tx < 0 || tx % g.stride_w) continue;
      int ox = tx / g.stride_w;
      if (ox >= ow) continue;
      acc += col[((size_t(c) * g.kh + ky) * g.kw + kx) * oh * ow + size_t(oy) * ow + ox];
    }
  }
  im[i] += acc;
}

__global__ void act_k(Act a, float* x, size_t n) {
  size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i < n) x[i] = act_forward(a, x[i]);
}
__global__ void act_back_k(Act a, const float* y, const float* dy, float* dx, size_t n) {
  size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i < n) dx[i] = dy[i] * act_grad(a, y[i]);
}
__global__ void axpy_k(size_t n, float alpha, const float* x, float* y) {
  size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i < n) y[i] += alpha * x[i];
}
__global__ void scale_k(size_t n, float alpha, float* x) {
  size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i < n) x[i] *= alpha;
}
__global__ void channel_affine_k(Shape s, const float* x, const float* scale, const float* shift, float* y, size_t n) {
  size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  int c = int((i / (size_t(s.h) * s.w)) % s.c);
  y[i] = x[i] * (scale ? scale[c] : 1.f) + (shift ? shift[c] : 0.f);
}
// One block per channel; a tree reduction in double over (n, h, w).
__global__ void channel_dot_k(Shape s, const float* a, const float* b, float* out, bool accumulate) {
  __shared__ double part[256];
  const int c = blockIdx.x;
  const size_t hw = size_t(s.h) * s.w, per = size_t(s.n) * hw;
  double acc = 0;
  for (size_t j = threadIdx.x; j < per; j += blockDim.x) {
    size_t idx = (j / hw * s.c + c) * hw + j % hw;
    acc += double(a[idx]) * (b ? b[idx] : 1.f);
  }
  part[threadIdx.x] = acc;
  __syncthreads();
  for (unsigned k = blockDim.x / 2; k > 0; k >>= 1) {
    if (threadIdx.x < k) part[threadIdx.x] += part[threadIdx.x + k];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[c] = float(accumulate ? out[c] + part[0] : part[0]);
}
}  // namespace

void im2col_cuda(const ConvGeom& g, const float* im, float* col) {
  const int oh = g.out_h(), ow = g.out_w();
  size_t n = size_t(g.channels) * g.kh * g.kw * oh * ow;
  if (!n) return;
  im2col_k<<<blocks_for(n), 256>>>(g, oh, ow, im, col, n);
  MABDET_CUDA_LAUNCH("im2col");
}
void col2im_cuda(const ConvGeom& g, const float* col, float* im) {
  size_t n = size_t(g.channels) * g.height * g.width;
  if (!n) return;
  col2im_k<<<blocks_for(n), 256>>>(g, g.out_h(), g.out_w(), col, im, n);
  MABDET_CUDA_LAUNCH("col2im");
}
void activate_cuda(Act a, float* x, size_t n) {
  if (!n) return;
  act_k<<<blocks_for(n), 256>>>(a, x, n);
  MABDET_CUDA_LAUNCH("activate");
}
void activate_backward_cuda(Act a, const float* y, const float* dy, float* dx, size_t n) {
  if (!n) return;
  act_back_k<<<blocks_for(n), 256>>>(a, y, dy, dx, n);
  MABDET_CUDA_LAUNCH("activate_backward");
}
void axpy_cuda(size_t n, float alpha, const float* x, float* y) {
  if (!n) return;
  axpy_k<<<blocks_for(n), 256>>>(n, alpha, x, y);
  MABDET_CUDA_LAUNCH("axpy");
}
void scale_cuda(size_t n, float alpha, float* x) {
  if (!n) return;
  scale_k<<<blocks_for(n), 256>>>(n, alpha, x);
  MABDET_CUDA_LAUNCH("scale");
}
void channel_affine_cuda(const Shape& s, const float* x, const float* scale, const float* shift, float* y) {
  if (!s.size()) return;
  channel_affine_k<<<blocks_for(s.size()), 256>>>(s, x, scale, shift, y, s.size());
  MABDET_CUDA_LAUNCH("channel_affine");
}
void channel_sum_cuda(const Shape& s, const float* x, float* out, bool accumulate) {
  if (!s.c) return;
  channel_dot_k<<<s.c, 256>>>(s, x, nullptr, out, accumulate);
  MABDET_CUDA_LAUNCH("channel_sum");
}
void channel_dot_cuda(const Shape& s, const float* a, const float* b, float* out, bool accumulate) {
  if (!s.c) return;
  channel_dot_k<<<s.c, 256>>>(s, a, b, out, accumulate);
  MABDET_CUDA_LAUNCH("channel_dot");
}

}  // namespace mabdet::ops
