// CudnnConv where this build has no cuDNN: layers ask cudnn_built() first, so these never run.
#include "ops/conv_cudnn.h"

#ifndef MABDET_CUDNN
namespace mabdet::ops {
struct CudnnConv::Impl {};
bool cudnn_built() { return false; }
CudnnConv::CudnnConv() = default;
CudnnConv::~CudnnConv() = default;
void CudnnConv::forward(Context&, const ConvShape&, const float*, const float*, float*, bool) {
  fail("convolution through cuDNN: this mabdet was built without it (GPU=1 CUDNN=1)");
}
void CudnnConv::backward_data(Context&, const ConvShape&, const float*, const float*, float*, bool) {
  fail("convolution through cuDNN: this mabdet was built without it (GPU=1 CUDNN=1)");
}
void CudnnConv::backward_weights(Context&, const ConvShape&, const float*, const float*, float*, bool) {
  fail("convolution through cuDNN: this mabdet was built without it (GPU=1 CUDNN=1)");
}
}  // namespace mabdet::ops
#endif
