// [deconvolutional]: transposed convolution, out = act(norm(deconv(x))). Each image is one sgemm,
// W^T x, giving the columns of the output, which col2im scatters into place: the adjoint of the
// convolution with the same size/stride/padding. Backward is that convolution: im2col of dL/dout,
// then one sgemm for dW and one for dx. On the host with oneDNN (ctx.conv) the same three products
// are that convolution's backward-data, backward-weights and forward primitives.
#include "layers/factories.h"
#include "layers/factory_util.h"
#include "layers/weights.h"
#include "ops/conv_dnnl.h"

namespace mabdet {
namespace {

class Deconvolutional : public Layer {
 public:
  Deconvolutional(int in_c, int filters, int size, int stride, int pad, NormAct tail, WeightInit init, Rng& rng)
      : in_c_(in_c), filters_(filters), geom_{filters, 0, 0, size, size, stride, stride, pad, pad, 1, 1}, tail_(std::move(tail)) {
    // PyTorch's ConvTranspose2d layout. He normal over the input channels' fan (in*size*size),
    // maskrcnn-benchmark's choice (kaiming_normal_ with mode fan_out on the transposed layout) for
    // its mask-head deconv.
    // weight_init=torch: PyTorch's default reads dim 1 of this layout (filters) as the fan.
    const double fan = double(init == WeightInit::Torch ? filters : in_c) * size * size;
    init_weights(weights_, dweights_, Shape{in_c, filters, size, size}, fan, init, rng);
  }

  std::string type() const override { return "deconvolutional"; }
  std::string filters_str() const override { return cat(filters_); }
  std::string size_str() const override { return cat(geom_.kh, "x", geom_.kw, "/", geom_.stride_h, " up"); }

  Shape reshape(const std::vector<Shape>& in) override {
    const Shape& s = in.at(0);
    if (s.c != in_c_) fail("deconvolutional: input has ", s.c, " channels, the layer was built for ", in_c_);
    // The output is the "image" of a convolution whose output is the input.
    // int64 first: a large input times the stride must be reported, not wrapped.
    geom_.height = checked_side(int64_t(s.h - 1) * geom_.stride_h - 2 * geom_.pad_h + geom_.kh, "deconvolutional");
    geom_.width = checked_side(int64_t(s.w - 1) * geom_.stride_w - 2 * geom_.pad_w + geom_.kw, "deconvolutional");
    if (geom_.height <= 0 || geom_.width <= 0)
      fail("deconvolutional: padding ", geom_.pad_h, " leaves no output for a ", s.h, "x", s.w, " input");
    in_h_ = s.h;
    in_w_ = s.w;
    Shape o{s.n, filters_, geom_.height, geom_.width};
    tail_.reshape(o);
    return o;
  }

  void forward(Context& ctx, const Inputs& in, Tensor& out) override {
    const Tensor& x = *in[0];  // (N, Cin, H, W)
    const Device d = x.device();
    Tensor& y = tail_.pre(ctx, out);   // (N, F, OH, OW)
    if (use_dnnl(ctx, d, x.n())) {
      dnnl_.backward_data(ctx, adjoint(x.n()), weights_.data(), x.data(), y.data(), false);
      return tail_.forward(ctx, out);
    }
    const int rows = k(), hw = in_h_ * in_w_;
    float* col = ctx.workspace(size_t(rows) * hw);  // (F*kh*kw, H*W)
    y.zero();
    for (int n = 0; n < x.n(); ++n) {
      ops::gemm(d, true, false, rows, hw, in_c_, 1.f, weights_.data(), rows, x.data() + size_t(n) * in_c_ * hw, hw,
                0.f, col, hw);
      ops::col2im(d, geom_, col, y.data() + size_t(n) * y.shape().chw());
    }
    tail_.forward(ctx, out);
  }

  void backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout,
                const InputGrads& din) override {
    const Tensor& x = *in[0];  // (N, Cin, H, W)
    const Device d = x.device();
    const Tensor& dy = tail_.backward(ctx, out, dout);  // (N, F, OH, OW)
    Tensor* dx = din.empty() ? nullptr : din[0];       // (N, Cin, H, W)
    if (use_dnnl(ctx, d, x.n())) {
      const ops::ConvShape s = adjoint(x.n());
      dnnl_.backward_weights(ctx, s, dy.data(), x.data(), dweights_.data());
      if (dx) dnnl_.forward(ctx, s, dy.data(), weights_.data(), dx->data(), true);
      return;
    }
    const int rows = k(), hw = in_h_ * in_w_;
    float* col = ctx.workspace(size_t(rows) * hw);  // (F*kh*kw, H*W)
    for (int n = 0; n < x.n(); ++n) {
      ops::im2col(d, geom_, dy.data() + size_t(n) * dy.shape().chw(), col);
      const float* xn = x.data() + size_t(n) * in_c_ * hw;
      ops::gemm(d, false, true, in_c_, rows, hw, 1.f, xn, hw, col, hw, 1.f, dweights_.data(), rows);
      if (dx)
        ops::gemm(d, false, false, in_c_, hw, rows, 1.f, weights_.data(), rows, col, hw, 1.f,
                  dx->data() + size_t(n) * in_c_ * hw, hw);
    }
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
    weights.reshape(weights_.shape());  // (Cin, F, kh, kw): channel f owns kh*kw values per input
    return tail_.fold(weights_.data(), in_c_, int(weights_.shape().plane()), weights, bias);
  }

 private:
  bool use_dnnl(const Context& ctx, Device d, int n) {
    if (d != Device::CPU || n == 0 || ctx.conv == ConvPath::Reference) return false;
    // Auto: the conv rule, judged on the larger side (our output, the adjoint conv's input).
    const bool strided = geom_.stride_h * geom_.stride_w > 1;
    const int ka = geom_.kh * geom_.kw, plane = geom_.height * geom_.width;
    const double macs = double(n) * plane * ka * in_c_ * filters_;  // on the larger side, as above
    if (ctx.conv == ConvPath::Auto && !ops::dnnl_pays(ka, strided, n, plane, macs)) return false;
    return dnnl_.supports(adjoint(n));
  }
  // The convolution this layer transposes: from our output (F channels) to our input (Cin).
  ops::ConvShape adjoint(int n) const {
    return {n, filters_, geom_.height, geom_.width, in_c_, geom_.kh, geom_.kw, geom_.stride_h, geom_.stride_w,
            geom_.pad_h, geom_.pad_w, 1, 1, 1};
  }

  int k() const { return filters_ * geom_.kh * geom_.kw; }  // rows of the column matrix

  int in_c_, filters_;
  int in_h_ = 0, in_w_ = 0;
  ops::ConvGeom geom_;  // the adjoint convolution: its input is our output, its output our input
  NormAct tail_;
  ops::DnnlConv dnnl_;         // the adjoint convolution's primitives for the last shape
  Tensor weights_, dweights_;  // (Cin, F, kh, kw)
};

}  // namespace

std::unique_ptr<Layer> make_deconvolutional(const Scope& cfg, const std::vector<Shape>& in, Rng& rng) {
  const Section& sec = cfg.sec;
  const int filters = positive_key(sec, "filters");
  const int size = positive_key(sec, "size");
  const int stride = positive_key(sec, "stride", 1);
  const int padding = padding_key(sec, size / 2);  // darknet's pad=1: size/2
  const ops::Act act = read_activation(sec);
  std::unique_ptr<Norm> norm = make_norm(cfg, filters, true);
  auto layer = std::make_unique<Deconvolutional>(in.at(0).c, filters, size, stride, padding,
                                                  NormAct(std::move(norm), act), read_weight_init(cfg), rng);
  return reshaped(sec, std::move(layer), in);
}

}  // namespace mabdet
