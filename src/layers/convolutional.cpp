// [convolutional]: out = act(norm(conv(x, W_used))), W_used = W, or W with each filter's mean removed
// when centralize=1 (MABN's weight centralization; see /work/shared/MABN.md). On the host the conv
// runs through oneDNN where built and where it pays (ctx.conv, ops::dnnl_pays); the reference path
// below is im2col + sgemm, which CUDA tensors and shapes oneDNN declines also take. Grouped convs run one
// sgemm per image per group over im2col columns in ctx.workspace; 1x1/stride-1/unpadded convs use
// the input itself as the column matrix. Backward recomputes the columns instead of storing them:
// one im2col is cheaper than holding K*OH*OW floats per image between passes.
#include <algorithm>

#include "layers/factories.h"
#include "layers/factory_util.h"
#include "layers/weights.h"
#include "mabdet/conv_unit.h"
#include "ops/conv_cudnn.h"
#include "ops/conv_dnnl.h"

namespace mabdet {
namespace {

class Convolutional : public Layer {
 public:
  Convolutional(int in_c, int filters, int kh, int kw, int stride, int pad, int dilation, int groups, bool centralize,
                NormAct tail, WeightInit init, Rng& rng)
      : in_c_(in_c),
        filters_(filters),
        groups_(groups),
        centralize_(centralize),
        geom_{in_c / groups, 0, 0, kh, kw, stride, stride, pad, pad, dilation, dilation},
        tail_(std::move(tail)) {
    init_weights(weights_, dweights_, Shape{filters, in_c / groups, kh, kw}, double(in_c / groups) * kh * kw, init, rng);
  }

  std::string type() const override { return "convolutional"; }
  std::string filters_str() const override {
    return groups_ > 1 ? cat(filters_, "/", groups_, "g") : cat(filters_);
  }
  std::string size_str() const override {
    std::string s = cat(geom_.kh, "x", geom_.kw, "/", geom_.stride_h);
    if (geom_.dil_h > 1) s += cat(" d", geom_.dil_h);
    return s;
  }

  Shape reshape(const std::vector<Shape>& in) override {
    const Shape& s = in.at(0);
    if (s.c != in_c_) fail("convolutional: input has ", s.c, " channels, the layer was built for ", in_c_);
    geom_.height = s.h;
    geom_.width = s.w;
    if (geom_.out_h() <= 0 || geom_.out_w() <= 0)
      fail("convolutional: input ", s.h, "x", s.w, " is smaller than the ", geom_.kh, "x", geom_.kw,
           " kernel (dilation ", geom_.dil_h, ", padding ", geom_.pad_h, ")");
    Shape o{s.n, filters_, checked_side(geom_.out_h(), "convolutional"), checked_side(geom_.out_w(), "convolutional")};
    tail_.reshape(o);
    return o;
  }

  void forward(Context& ctx, const Inputs& in, Tensor& out) override {
    const Tensor& x = *in[0];  // (N, C, H, W)
    const Device d = x.device();
    const float* w = used_weights(ctx);  // (F, C/G, kh, kw)
    Tensor& y = tail_.pre(ctx, out);   // (N, F, OH, OW)
    if (use_dnnl(ctx, d, x.n())) {
      dnnl_.forward(ctx, conv_shape(x.n()), x.data(), w, y.data());
      return tail_.forward(ctx, out);
    }
    if (use_cudnn(ctx, d, x.n())) {
      cudnn_.forward(ctx, conv_shape(x.n()), x.data(), w, y.data());
      return tail_.forward(ctx, out);
    }
    const int fg = filters_ / groups_, K = k(), ohw = out_plane();
    if (const int B = images_per_gemm(d, x.n())) {
      forward_batched(ctx, x, w, y, B);
      return tail_.forward(ctx, out);
    }
    float* col = one_by_one() ? nullptr : ctx.workspace(size_t(K) * ohw);  // (C/G*kh*kw, OH*OW)
    for (int n = 0; n < x.n(); ++n)
      for (int g = 0; g < groups_; ++g) {
        const float* xg = x.data() + in_offset(n, g);
        float* yg = y.data() + out_offset(n, g);
        const float* wg = w + size_t(g) * fg * K;
        if (col) ops::im2col(d, geom_, xg, col);
        ops::gemm(d, false, false, fg, ohw, K, 1.f, wg, K, col ? col : xg, ohw, 0.f, yg, ohw);
      }
    tail_.forward(ctx, out);
  }

  bool writes_fresh_grads() const override { return true; }

  void backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout,
                const InputGrads& din) override {
    const Tensor& x = *in[0];  // (N, C, H, W)
    const Device d = x.device();
    const Tensor& dy = tail_.backward(ctx, out, dout);  // (N, F, OH, OW)
    // dL/dW_used accumulates straight into dweights_ unless it must go through the centring first;
    // then it goes into the weight scratch, beside the centred weights (recomputed: the same
    // values the forward used, since the weights have not changed since).
    const size_t nw = weights_.size();
    float* dw = centralize_ ? ctx.weight_scratch(2 * nw) + nw : dweights_.data();  // (F, C/G, kh, kw)
    Tensor* dx = din.empty() ? nullptr : din[0];  // (N, C, H, W)
    // W_used = W - mean(W) is linear with a symmetric projection, so dW = dW_used - mean(dW_used).
    auto centred_grad_to_dweights = [&] { ops::center_rows_add(d, filters_, k(), dw, dweights_.data()); };
    if (use_dnnl(ctx, d, x.n())) {
      const ops::ConvShape s = conv_shape(x.n());
      dnnl_.backward_weights(ctx, s, x.data(), dy.data(), dw, !centralize_);
      if (centralize_) centred_grad_to_dweights();
      if (dx) dnnl_.backward_data(ctx, s, used_weights(ctx), dy.data(), dx->data(), !din.fresh(0));
      return;
    }
    if (use_cudnn(ctx, d, x.n())) {
      const ops::ConvShape s = conv_shape(x.n());
      cudnn_.backward_weights(ctx, s, x.data(), dy.data(), dw, !centralize_);
      if (centralize_) centred_grad_to_dweights();
      if (dx) cudnn_.backward_data(ctx, s, used_weights(ctx), dy.data(), dx->data(), !din.fresh(0));
      return;
    }
    if (dx && din.fresh(0)) dx->zero();  // the reference path's col2im adds
    const float* w = used_weights(ctx);
    if (centralize_) detail::device_zero(d, dw, nw * sizeof(float));  // the reference path's gemms add into it
    backward_reference(ctx, x, w, dy, dw, dx);
    if (centralize_) centred_grad_to_dweights();
  }

  void to(Device d) override {
    to_device(d, weights_, dweights_);
    tail_.to(d);
  }
  std::vector<Param> params() override { return weights_and_tail_params(weights_, dweights_, tail_); }
  bool backward_reads_output() const override { return tail_.act() != ops::Act::Linear; }
  std::vector<State> state() override { return tail_.state(); }

  bool fold_norm(Tensor& weights, Tensor& bias) const override {
    MABDET_ASSERT(weights_.device() == Device::CPU, "fold_norm runs on the host");
    weights.reshape(weights_.shape());
    const float* w = weights_.data();
    if (centralize_) {  // the very centring the forward applies
      ops::center_rows(Device::CPU, filters_, k(), weights_.data(), weights.data());
      w = weights.data();
    }
    return tail_.fold(w, 1, k(), weights, bias);
  }

 private:
  bool use_cudnn(const Context& ctx, Device d, int n) const {
    return d == Device::CUDA && n > 0 && ctx.conv != ConvPath::Reference && ops::cudnn_built();
  }
  bool use_dnnl(const Context& ctx, Device d, int n) {
    if (d != Device::CPU || n == 0 || ctx.conv == ConvPath::Reference) return false;
    const int ka = geom_.kh * geom_.kw;
    const double macs = double(n) * out_plane() * ka * in_c_ * filters_ / groups_;
    if (ctx.conv == ConvPath::Auto && !ops::dnnl_pays(ka, geom_.stride_h * geom_.stride_w > 1, n, out_plane(), macs))
      return false;
    return dnnl_.supports(conv_shape(n));
  }
  ops::ConvShape conv_shape(int n) const {
    return {n, in_c_, geom_.height, geom_.width, filters_, geom_.kh, geom_.kw, geom_.stride_h, geom_.stride_w,
            geom_.pad_h, geom_.pad_w, geom_.dil_h, geom_.dil_w, groups_};
  }

  void backward_reference(Context& ctx, const Tensor& x, const float* w, const Tensor& dy, float* dw, Tensor* dx) {
    const Device d = x.device();
    const int fg = filters_ / groups_, K = k(), ohw = out_plane(), hw = geom_.height * geom_.width;
    const int B = images_per_gemm(d, x.n());
    float* col = B || one_by_one() ? nullptr : ctx.workspace(size_t(K) * ohw);  // (C/G*kh*kw, OH*OW)
    if (B) backward_batched(ctx, x, w, dy, dw, dx, B);
    for (int n = 0; B == 0 && n < x.n(); ++n)
      for (int g = 0; g < groups_; ++g) {
        const float* xg = x.data() + in_offset(n, g);
        const float* dyg = dy.data() + out_offset(n, g);
        const float* wg = w + size_t(g) * fg * K;
        float* dwg = dw + size_t(g) * fg * K;
        if (col) ops::im2col(d, geom_, xg, col);
        ops::gemm(d, false, true, fg, K, ohw, 1.f, dyg, ohw, col ? col : xg, ohw, 1.f, dwg, K);
        if (!dx) continue;
        float* dxg = dx->data() + in_offset(n, g);
        if (col) {
          ops::gemm(d, true, false, K, ohw, fg, 1.f, wg, K, dyg, ohw, 0.f, col, ohw);
          ops::col2im(d, geom_, col, dxg);
        } else {
          ops::gemm(d, true, false, K, hw, fg, 1.f, wg, K, dyg, ohw, 1.f, dxg, hw);
        }
      }
  }

  // Small maps (RoI heads: hundreds of 7x7 or 14x14 inputs) run B images per gemm, their im2col
  // columns side by side, since one gemm per image of a few dozen columns leaves BLAS idle.
  // 0 = one image per gemm (large maps, groups, 1x1, or CUDA).
  int images_per_gemm(Device d, int n) const {
    if (d != Device::CPU || groups_ != 1 || one_by_one() || n < 2 || out_plane() > 1024) return 0;
    constexpr size_t kChunkFloats = size_t(1) << 21;  // 8 MB of columns per gemm
    return int(std::clamp<size_t>(kChunkFloats / (size_t(k()) * out_plane()), 1, size_t(n)));
  }

  void forward_batched(Context& ctx, const Tensor& x, const float* w, Tensor& y, int B) {
    const int K = k(), ohw = out_plane(), F = filters_;
    float* col = ctx.workspace((size_t(K) + F) * B * ohw);  // (K, B*OHW), then (F, B*OHW)
    float* yb = col + size_t(K) * B * ohw;
    for (int n0 = 0; n0 < x.n(); n0 += B) {
      const int b = std::min(B, x.n() - n0), ld = b * ohw;
      for (int j = 0; j < b; ++j) ops::im2col_ld(Device::CPU, geom_, x.data() + in_offset(n0 + j, 0), col + size_t(j) * ohw, ld);
      ops::gemm(Device::CPU, false, false, F, ld, K, 1.f, w, K, col, ld, 0.f, yb, ld);
      for (int j = 0; j < b; ++j)
        for (int f = 0; f < F; ++f)
          std::copy_n(yb + size_t(f) * ld + size_t(j) * ohw, ohw, y.data() + out_offset(n0 + j, 0) + size_t(f) * ohw);
    }
  }

  void backward_batched(Context& ctx, const Tensor& x, const float* w, const Tensor& dy, float* dw, Tensor* dx, int B) {
    const int K = k(), ohw = out_plane(), F = filters_;
    float* col = ctx.workspace((size_t(K) + F) * B * ohw);
    float* dyb = col + size_t(K) * B * ohw;
    for (int n0 = 0; n0 < x.n(); n0 += B) {
      const int b = std::min(B, x.n() - n0), ld = b * ohw;
      for (int j = 0; j < b; ++j) {
        for (int f = 0; f < F; ++f)
          std::copy_n(dy.data() + out_offset(n0 + j, 0) + size_t(f) * ohw, ohw, dyb + size_t(f) * ld + size_t(j) * ohw);
        ops::im2col_ld(Device::CPU, geom_, x.data() + in_offset(n0 + j, 0), col + size_t(j) * ohw, ld);
      }
      ops::gemm(Device::CPU, false, true, F, K, ld, 1.f, dyb, ld, col, ld, 1.f, dw, K);
      if (!dx) continue;
      ops::gemm(Device::CPU, true, false, K, ld, F, 1.f, w, K, dyb, ld, 0.f, col, ld);
      for (int j = 0; j < b; ++j)
        ops::col2im_ld(Device::CPU, geom_, col + size_t(j) * ohw, dx->data() + in_offset(n0 + j, 0), ld);
    }
  }

  int k() const { return geom_.channels * geom_.kh * geom_.kw; }  // one filter's length
  int out_plane() const { return geom_.out_h() * geom_.out_w(); }
  bool one_by_one() const {
    return geom_.kh == 1 && geom_.kw == 1 && geom_.stride_h == 1 && geom_.stride_w == 1 && geom_.pad_h == 0 &&
           geom_.pad_w == 0;
  }
  size_t in_offset(int n, int g) const {
    return (size_t(n) * in_c_ + size_t(g) * geom_.channels) * geom_.height * geom_.width;
  }
  size_t out_offset(int n, int g) const {
    return (size_t(n) * filters_ + size_t(g) * (filters_ / groups_)) * out_plane();
  }
  // The weights the conv uses: centred into the first half of the weight scratch (MABN).
  const float* used_weights(Context& ctx) {
    if (!centralize_) return weights_.data();
    float* wc = ctx.weight_scratch(2 * weights_.size());
    ops::center_rows(weights_.device(), filters_, k(), weights_.data(), wc);
    return wc;
  }

  int in_c_, filters_, groups_;
  bool centralize_;
  ops::ConvGeom geom_;  // one group of one image
  NormAct tail_;
  ops::DnnlConv dnnl_;         // its primitives for the last shape
  ops::CudnnConv cudnn_;       // its descriptors and algorithms for the last shape (on the GPU)
  Tensor weights_, dweights_;  // (F, C/G, kh, kw)
};

}  // namespace

std::unique_ptr<Layer> make_convolutional(const Scope& cfg, const std::vector<Shape>& in, Rng& rng) {
  const Section& sec = cfg.sec;
  const int filters = positive_key(sec, "filters");
  const int size = positive_key(sec, "size");
  const int stride = positive_key(sec, "stride", 1);
  const int dilation = positive_key(sec, "dilation", 1);
  if (int64_t(dilation) * (size - 1) + 1 > kMaxKey)
    sec.fail_key(sec.has("dilation") ? "dilation" : "size",
                 cat("the dilated kernel spans dilation*(size-1)+1 = ", int64_t(dilation) * (size - 1) + 1,
                     " pixels, more than ", kMaxKey));
  // darknet's pad=1 means "same" padding for odd sizes: size/2 pixels per side (scaled by dilation).
  const int padding = padding_key(sec, dilation * (size / 2));
  const int groups = positive_key(sec, "groups", 1);
  const int in_c = in.at(0).c;
  if (in_c % groups) sec.fail_key("groups", cat("must divide the input channels (", in_c, ")"));
  if (filters % groups) sec.fail_key("groups", cat("must divide filters (", filters, ")"));
  const ops::Act act = read_activation(sec);
  std::unique_ptr<Norm> norm = make_norm(cfg, filters, true);
  const bool centralize = cfg.get_bool("centralize", norm->default_centralize());
  auto layer = std::make_unique<Convolutional>(in_c, filters, size, size, stride, padding, dilation, groups,
                                                centralize, NormAct(std::move(norm), act), read_weight_init(cfg), rng);
  return reshaped(sec, std::move(layer), in);
}

std::unique_ptr<Layer> make_conv_unit(const Scope& cfg, int in_c, const ConvSpec& spec, Rng& rng) {
  const Section& sec = cfg.sec;
  auto bad = [&](const char* what, int v) { sec.fail_section(cat("conv unit: ", what, " ", v, " is out of range")); };
  if (spec.filters <= 0) bad("filters", spec.filters);
  if (spec.size <= 0) bad("size", spec.size);
  if (spec.stride <= 0) bad("stride", spec.stride);
  if (spec.dilation <= 0) bad("dilation", spec.dilation);
  if (spec.filters > kMaxKey) bad("filters", spec.filters);
  if (spec.size > kMaxKey || spec.stride > kMaxKey || spec.padding > kMaxKey) bad("size/stride/padding", spec.size);
  if (int64_t(spec.dilation) * (spec.size - 1) + 1 > kMaxKey) bad("dilation", spec.dilation);
  if (spec.groups <= 0 || in_c % spec.groups || spec.filters % spec.groups) bad("groups", spec.groups);
  const int padding = spec.padding < 0 ? spec.dilation * (spec.size / 2) : spec.padding;
  ops::Act act;
  try {
    act = ops::parse_act(spec.activation);
  } catch (const Error& e) {
    sec.fail_section(cat("conv unit: ", e.what()));
  }
  std::unique_ptr<Norm> norm = make_norm(cfg, spec.filters, true);
  const bool centralize = cfg.get_bool("centralize", norm->default_centralize());
  return std::make_unique<Convolutional>(in_c, spec.filters, spec.size, spec.size, spec.stride, padding, spec.dilation,
                                         spec.groups, centralize, NormAct(std::move(norm), act),
                                         WeightInit::HeNormal, rng);  // its owner redraws it (RPN: N(0, 0.01))
}

}  // namespace mabdet
