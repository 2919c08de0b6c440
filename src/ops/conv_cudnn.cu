// CudnnConv through cuDNN's convolution API (GPU=1 CUDNN=1 builds).
#ifdef MABDET_CUDNN
#include <cudnn.h>

#include "ops/conv_cudnn.h"
#include "ops/cuda_common.h"

#define MABDET_CUDNN_CALL(call) cudnn_check((call), #call, __FILE__, __LINE__)

namespace mabdet::ops {
namespace {
void cudnn_check(cudnnStatus_t s, const char* call, const char* file, int line) {
  if (s != CUDNN_STATUS_SUCCESS) fail("cuDNN error in ", call, " (", file, ":", line, "): ", cudnnGetErrorString(s));
}
// One handle per process, like cublas(): it binds to the device current at first use.
cudnnHandle_t cudnn() {
  static cudnnHandle_t h = [] {
    cudnnHandle_t x;
    MABDET_CUDNN_CALL(cudnnCreate(&x));
    return x;
  }();
  return h;
}
// The first of cuDNN's ranked choices that it can run in fp32 (no tensor-core TF32 rounding)
// and, for the backward ones, deterministically.
template <class Perf>
bool usable(const Perf& p, bool need_deterministic) {
  return p.status == CUDNN_STATUS_SUCCESS && p.mathType != CUDNN_TENSOR_OP_MATH &&
         (!need_deterministic || p.determinism == CUDNN_DETERMINISTIC);
}
template <class Perf, class Algo>
Algo pick(const Perf* perf, int n, bool deterministic, Algo fallback) {
  for (int i = 0; i < n; ++i)
    if (usable(perf[i], deterministic)) return perf[i].algo;
  return fallback;
}
}  // namespace

bool cudnn_built() { return true; }

struct CudnnConv::Impl {
  ConvShape shape;
  bool ready = false;
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnConvolutionFwdAlgo_t fwd = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  cudnnConvolutionBwdDataAlgo_t bwd_data = CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
  cudnnConvolutionBwdFilterAlgo_t bwd_filter = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1;
  size_t fwd_bytes = 0, data_bytes = 0, filter_bytes = 0;

  Impl() {
    MABDET_CUDNN_CALL(cudnnCreateTensorDescriptor(&x));
    MABDET_CUDNN_CALL(cudnnCreateTensorDescriptor(&y));
    MABDET_CUDNN_CALL(cudnnCreateFilterDescriptor(&w));
    MABDET_CUDNN_CALL(cudnnCreateConvolutionDescriptor(&conv));
  }
  ~Impl() {
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyConvolutionDescriptor(conv);
  }

  void prepare(const ConvShape& s) {
    if (ready && s == shape) return;
    ready = false;
    MABDET_CUDNN_CALL(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s.n, s.c, s.h, s.w));
    MABDET_CUDNN_CALL(cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, s.f, s.c / s.groups, s.kh, s.kw));
    MABDET_CUDNN_CALL(cudnnSetConvolution2dDescriptor(conv, s.pad_h, s.pad_w, s.stride_h, s.stride_w, s.dil_h, s.dil_w,
                                                      CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    MABDET_CUDNN_CALL(cudnnSetConvolutionGroupCount(conv, s.groups));
    MABDET_CUDNN_CALL(cudnnSetConvolutionMathType(conv, CUDNN_FMA_MATH));  // fp32: no TF32
    int n = 0, c = 0, h = 0, wd = 0;
    MABDET_CUDNN_CALL(cudnnGetConvolution2dForwardOutputDim(conv, x, w, &n, &c, &h, &wd));
    MABDET_ASSERT(n == s.n && c == s.f && h == s.out_h() && wd == s.out_w(), "cuDNN's output ", n, "x", c, "x", h, "x", wd);
    MABDET_CUDNN_CALL(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, wd));
    constexpr int kMax = 16;
    int got = 0;
    cudnnConvolutionFwdAlgoPerf_t fp[kMax];
    MABDET_CUDNN_CALL(cudnnGetConvolutionForwardAlgorithm_v7(cudnn(), x, w, conv, y, kMax, &got, fp));
    fwd = pick(fp, got, false, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM);
    cudnnConvolutionBwdDataAlgoPerf_t dp[kMax];
    MABDET_CUDNN_CALL(cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnn(), w, y, conv, x, kMax, &got, dp));
    bwd_data = pick(dp, got, true, CUDNN_CONVOLUTION_BWD_DATA_ALGO_1);
    cudnnConvolutionBwdFilterAlgoPerf_t wp[kMax];
    MABDET_CUDNN_CALL(cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnn(), x, y, conv, w, kMax, &got, wp));
    bwd_filter = pick(wp, got, true, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1);
    MABDET_CUDNN_CALL(cudnnGetConvolutionForwardWorkspaceSize(cudnn(), x, w, conv, y, fwd, &fwd_bytes));
    MABDET_CUDNN_CALL(cudnnGetConvolutionBackwardDataWorkspaceSize(cudnn(), w, y, conv, x, bwd_data, &data_bytes));
    MABDET_CUDNN_CALL(cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnn(), x, y, conv, w, bwd_filter, &filter_bytes));
    shape = s;
    ready = true;
  }
};

namespace {
void* scratch(Context& ctx, size_t bytes) { return bytes ? ctx.workspace((bytes + 3) / 4) : nullptr; }
}  // namespace

CudnnConv::CudnnConv() = default;
CudnnConv::~CudnnConv() = default;

void CudnnConv::forward(Context& ctx, const ConvShape& s, const float* x, const float* w, float* y, bool accumulate) {
  if (!impl_) impl_ = std::make_unique<Impl>();
  impl_->prepare(s);
  const float one = 1.f, beta = accumulate ? 1.f : 0.f;
  void* ws = scratch(ctx, impl_->fwd_bytes);
  MABDET_CUDNN_CALL(cudnnConvolutionForward(cudnn(), &one, impl_->x, x, impl_->w, w, impl_->conv, impl_->fwd, ws,
                                            impl_->fwd_bytes, &beta, impl_->y, y));
}

void CudnnConv::backward_data(Context& ctx, const ConvShape& s, const float* w, const float* dy, float* dx,
                              bool accumulate) {
  if (!impl_) impl_ = std::make_unique<Impl>();
  impl_->prepare(s);
  const float one = 1.f, beta = accumulate ? 1.f : 0.f;
  void* ws = scratch(ctx, impl_->data_bytes);
  MABDET_CUDNN_CALL(cudnnConvolutionBackwardData(cudnn(), &one, impl_->w, w, impl_->y, dy, impl_->conv,
                                                 impl_->bwd_data, ws, impl_->data_bytes, &beta, impl_->x, dx));
}

void CudnnConv::backward_weights(Context& ctx, const ConvShape& s, const float* x, const float* dy, float* dw,
                                 bool accumulate) {
  if (!impl_) impl_ = std::make_unique<Impl>();
  impl_->prepare(s);
  const float one = 1.f, beta = accumulate ? 1.f : 0.f;
  void* ws = scratch(ctx, impl_->filter_bytes);
  MABDET_CUDNN_CALL(cudnnConvolutionBackwardFilter(cudnn(), &one, impl_->x, x, impl_->y, dy, impl_->conv,
                                                   impl_->bwd_filter, ws, impl_->filter_bytes, &beta, impl_->w, dw));
}

}  // namespace mabdet::ops
#endif
