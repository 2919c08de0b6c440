// The op vocabulary layers and norms are written in. Each op takes the device of its tensors and
// dispatches to the CPU implementation (the readable reference, src/ops/*.cpp) or, in GPU=1 builds,
// to CUDA (src/ops/*.cu). Layers never branch on the device themselves.
#pragma once
#include <cstdint>
#include <string>

#include "mabdet/tensor.h"

namespace mabdet::ops {

// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, row-major, like cblas_sgemm.
void gemm(Device d, bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc);

// Convolution geometry of one image (one group is selected by the caller through pointer offsets).
struct ConvGeom {
  int channels, height, width;      // input
  int kh, kw, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
  int out_h() const { return (height + 2 * pad_h - (dil_h * (kh - 1) + 1)) / stride_h + 1; }
  int out_w() const { return (width + 2 * pad_w - (dil_w * (kw - 1) + 1)) / stride_w + 1; }
};
// col[(c*kh*kw) x (out_h*out_w)] from im[channels x height x width].
void im2col(Device d, const ConvGeom& g, const float* im, float* col);
// im += col2im(col): the adjoint of im2col, accumulating.
void col2im(Device d, const ConvGeom& g, const float* col, float* im);
// The same with rows of the column matrix `ld` floats apart (ld >= out_h*out_w), host only: the
// columns of several images side by side, one gemm for all (RoI heads: many small maps).
void im2col_ld(Device d, const ConvGeom& g, const float* im, float* col, size_t ld);
void col2im_ld(Device d, const ConvGeom& g, const float* col, float* im, size_t ld);

enum class Act { Linear, Relu, Leaky, Logistic };
Act parse_act(const std::string& name);  // throws for unknown names (callers add file:line)
const char* act_name(Act a);
// x = f(x) in place.
void activate(Device d, Act a, float* x, size_t n);
// dx = dy * f'(.) expressed through the output y; dx may alias dy (then Linear is a no-op).
void activate_backward(Device d, Act a, const float* y, const float* dy, float* dx, size_t n);

// y += alpha * x
void axpy(Device d, size_t n, float alpha, const float* x, float* y);
// x *= alpha
void scale(Device d, size_t n, float alpha, float* x);
// y = x (n floats, distinct buffers)
void copy(Device d, size_t n, const float* x, float* y);

// Layer ops (one file each in src/ops/: rows.cpp, pool.cpp, resample.cpp).
// y[r,:] = x[r,:] - mean(x[r,:]) for rows x cols row-major; y may equal x (MABN weight centring).
void center_rows(Device d, int rows, int cols, const float* x, float* y);
// y[r, :] += x[r, :] - mean(x[r, :]): a centred gradient added in one pass. x may be overwritten
// (the CUDA path centres it in place first).
void center_rows_add(Device d, int rows, int cols, float* x, float* y);
// Softmax of each row into prob; where labels is non-null also loss[r] = -log softmax(x[r])[labels[r]]
// (via log-sum-exp, so it stays finite when a probability underflows). Labels must be in range.
void softmax_cross_entropy(Device d, int rows, int cols, const float* x, const int32_t* labels, float* prob,
                           float* loss);
// dx[r,:] += scale * (prob[r,:] - onehot(labels[r]))
void softmax_cross_entropy_backward(Device d, int rows, int cols, const float* prob, const int32_t* labels,
                                    float scale, float* dx);
// Max pooling over NCHW, per-side zero-free padding (padded positions never win); idx[o] is the
// winning position inside its input plane (y*W + x), ties go to the first in row-major order;
// idx may be null where no backward follows.
struct PoolGeom {
  int size, stride, pad;
  int out(int in) const { return (in + 2 * pad - size) / stride + 1; }
};
void maxpool(Device d, const Shape& in, const PoolGeom& g, const float* x, float* y, int32_t* idx);
// dx[idx[o]] += dy[o] (in: the input shape; dy is (N, C, g.out(H), g.out(W)))
void maxpool_backward(Device d, const Shape& in, const PoolGeom& g, const float* dy, const int32_t* idx, float* dx);
// y[n,c] = mean over h,w of x[n,c,:,:]  (global average pool, in: the input shape)
void plane_mean(Device d, const Shape& in, const float* x, float* y);
// dx[n,c,:,:] += dy[n,c] / (H*W)
void plane_mean_backward(Device d, const Shape& in, const float* dy, float* dx);
// Nearest upsampling by an integer factor: y is (N, C, H*stride, W*stride); backward sums each block.
void upsample_nearest(Device d, const Shape& in, int stride, const float* x, float* y);
void upsample_nearest_backward(Device d, const Shape& in, int stride, const float* dy, float* dx);

}  // namespace mabdet::ops

namespace mabdet::ops {
// Per-channel ops over NCHW (the vocabulary of norms and biases).
// y[n,c,:] = x[n,c,:] * scale[c] + shift[c]; scale or shift may be null (1 / 0).
void channel_affine(Device d, const Shape& s, const float* x, const float* scale, const float* shift, float* y);
// out[c] (+)= sum over n,h,w of x[n,c,:]  (accumulate: add into out instead of overwriting)
void channel_sum(Device d, const Shape& s, const float* x, float* out, bool accumulate);
// out[c] (+)= sum over n,h,w of a[n,c,:] * b[n,c,:]
void channel_dot(Device d, const Shape& s, const float* a, const float* b, float* out, bool accumulate);
}  // namespace mabdet::ops

namespace mabdet::ops {
// Normalization statistics and maps over NCHW. A coefficient/statistic vector is indexed either
// per channel (k = c, C entries: bn, brn, mabn, frozen_bn) or per plane (k = n*C + c, N*C entries:
// gn, whose per-sample group statistics the norm expands to the group's channels). Reductions
// accumulate in double and store float.
enum class Per { Channel, Plane };
// out[k] = sum of x over the value(s) of index k
void norm_sum(Device d, const Shape& s, Per per, const float* x, float* out);
// out[k] = sum of a * (b - center[k]); center may be null (0)
void norm_dot(Device d, const Shape& s, Per per, const float* a, const float* b, const float* center, float* out);
// out[k] = sum of (x - center[k])^2: the second pass of a two-pass variance; center may be null
void norm_centered_sumsq(Device d, const Shape& s, Per per, const float* x, const float* center, float* out);
// y = x * scale[k] + shift[k]; scale or shift may be null (1 / 0); y may alias x
void norm_affine(Device d, const Shape& s, Per per, const float* x, const float* scale, const float* shift, float* y);
// dx (+)= a[k] * dy + b[k] * x + c[k]: every norm's input gradient has this form once its
// per-channel reductions are known. b and c may be null (0); x may be null when b is. accumulate:
// add into dx (the layers' convention), else overwrite it, and then dx may alias dy: each value
// reads its own dy before writing, so a transient gradient needs no zeroing and no second buffer.
void norm_backward(Device d, const Shape& s, Per per, const float* dy, const float* a, const float* x,
                   const float* b, const float* c, float* dx, bool accumulate);
}  // namespace mabdet::ops
