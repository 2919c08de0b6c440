// Convolution on the GPU through cuDNN (GPU=1 CUDNN=1 builds, the default with GPU=1): the fast
// path beside the layers' im2col + cuBLAS reference, which stays the fallback and the test
// oracle (MABDET_CONV=reference). The interface is DnnlConv's, on CUDA pointers; one CudnnConv
// per layer keeps the descriptors and algorithm choices of the last shape it ran. fp32 math only
// (no TF32), and deterministic backward algorithms, so runs repeat bit for bit.
#pragma once
#include <memory>

#include "ops/conv_dnnl.h"  // ConvShape

namespace mabdet::ops {

// True where this build has cuDNN.
bool cudnn_built();

class CudnnConv {
 public:
  CudnnConv();
  ~CudnnConv();
  CudnnConv(const CudnnConv&) = delete;
  CudnnConv& operator=(const CudnnConv&) = delete;
  // y = conv(x, w) (y += with accumulate); the algorithm's scratch lives in ctx.workspace.
  void forward(Context& ctx, const ConvShape& s, const float* x, const float* w, float* y, bool accumulate = false);
  // dx += conv^T(dy, w) (dx = without accumulate).
  void backward_data(Context& ctx, const ConvShape& s, const float* w, const float* dy, float* dx,
                     bool accumulate = true);
  // dw += dL/dw from x and dy (dw = without accumulate).
  void backward_weights(Context& ctx, const ConvShape& s, const float* x, const float* dy, float* dw,
                        bool accumulate = true);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mabdet::ops
