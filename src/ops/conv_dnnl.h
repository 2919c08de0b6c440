// Convolution on the host through oneDNN (DNNL=1 builds): the fast CPU path beside the layers'
// im2col + sgemm reference. One DnnlConv per layer keeps the primitives of the last shape it ran
// (creating them costs more than a small conv), so a shape change rebuilds them.
// Layouts are mabdet's: x (N, C, H, W), w (F, C/G, kh, kw), y (N, F, OH, OW); oneDNN may compute
// in its blocked layouts, and the reorders to and from them happen inside.
#pragma once
#include <cstdint>
#include <memory>

#include "mabdet/context.h"

namespace mabdet::ops {

struct ConvShape {
  int n = 0, c = 0, h = 0, w = 0;  // input
  int f = 0, kh = 0, kw = 0, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1, groups = 1;
  int out_h() const { return (h + 2 * pad_h - (dil_h * (kh - 1) + 1)) / stride_h + 1; }
  int out_w() const { return (w + 2 * pad_w - (dil_w * (kw - 1) + 1)) / stride_w + 1; }
  bool operator==(const ConvShape& o) const;
};

// True where this build has oneDNN; which path a layer takes is ctx.conv (Context).
bool dnnl_built();

// ConvPath::Auto's rule, from per-layer times of `mabdet bench` (docs/layers.md). They depend on
// the vector width oneDNN runs at (its effective ISA, which DNNL_MAX_CPU_ISA may lower):
// - AVX-512: oneDNN was faster on every ResNet-50 conv at 2 images, 1x1 ones included (all convs
//   189 against 233 ms per step at 2 threads), and slower only on 1x1 convs of a few hundred
//   thousand multiply-adds (ResNet-14 at 2 images), so it takes every conv but 1x1 ones under 4M.
// - AVX2: on ResNet-50 at 2 images it is 25-40% faster on convs with a spatial kernel over maps of
//   14x14 and more, and slower on 1x1 convs and on 7x7 maps, where the reorders to and from its
//   blocked layouts outweigh the kernel; on batches of small maps (ResNet-14 at 32 images, RoI
//   heads) it is faster on every conv but the unstrided 1x1, which keeps the reference path's
//   single gemm over the input itself.
// macs: the forward's multiply-adds (images x output plane x kernel x in x out channels / groups).
bool dnnl_pays(int kernel_area, bool strided, int images, int plane, double macs);
// True when oneDNN runs AVX-512 (or wider) kernels on this machine.
bool dnnl_avx512();

class DnnlConv {
 public:
  DnnlConv();
  ~DnnlConv();
  DnnlConv(const DnnlConv&) = delete;
  DnnlConv& operator=(const DnnlConv&) = delete;
  // False where oneDNN has no convolution for this shape (the caller runs its reference path).
  bool supports(const ConvShape& s);
  // y = conv(x, w), or y += conv(x, w) with accumulate. Layout copies live in ctx.workspace.
  void forward(Context& ctx, const ConvShape& s, const float* x, const float* w, float* y, bool accumulate = false);
  // dx += conv^T(dy, w): the gradient with respect to the input (dx = ... without accumulate,
  // which is also a transposed convolution's forward).
  void backward_data(Context& ctx, const ConvShape& s, const float* w, const float* dy, float* dx,
                     bool accumulate = true);
  // dw += dL/dw from x and dy (dw = dL/dw without accumulate).
  void backward_weights(Context& ctx, const ConvShape& s, const float* x, const float* dy, float* dw,
                        bool accumulate = true);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mabdet::ops
