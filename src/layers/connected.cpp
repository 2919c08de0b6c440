// [connected]: out = act(norm(x_flat * W^T)), x_flat the (N, C*H*W) view of the input. The norm
// defaults to none (a bias) whatever [net] says, since the net-wide norm= is meant for convs.
#include "layers/factories.h"
#include "layers/factory_util.h"
#include "layers/weights.h"

namespace mabdet {
namespace {

class Connected : public Layer {
 public:
  Connected(int inputs, int outputs, NormAct tail, WeightInit init, Rng& rng)
      : inputs_(inputs), outputs_(outputs), tail_(std::move(tail)) {
    init_weights(weights_, dweights_, Shape{outputs, inputs, 1, 1}, double(inputs), init, rng);  // as for convs
  }

  std::string type() const override { return "connected"; }
  std::string filters_str() const override { return cat(outputs_); }
  std::string size_str() const override { return cat(inputs_, "->", outputs_); }

  Shape reshape(const std::vector<Shape>& in) override {
    const Shape& s = in.at(0);
    if (int(s.chw()) != inputs_)
      fail("connected: input ", s.str(), " has ", s.chw(), " values per image, the layer was built for ", inputs_);
    Shape o{s.n, outputs_, 1, 1};
    tail_.reshape(o);
    return o;
  }

  void forward(Context& ctx, const Inputs& in, Tensor& out) override {
    const Tensor& x = *in[0];  // (N, C, H, W) read as (N, inputs)
    Tensor& y = tail_.pre(ctx, out);   // (N, outputs, 1, 1)
    ops::gemm(x.device(), false, true, x.n(), outputs_, inputs_, 1.f, x.data(), inputs_, weights_.data(), inputs_,
              0.f, y.data(), outputs_);
    tail_.forward(ctx, out);
  }

  void backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout,
                const InputGrads& din) override {
    const Tensor& x = *in[0];                           // (N, inputs)
    const Tensor& dy = tail_.backward(ctx, out, dout);  // (N, outputs)
    const Device d = x.device();
    ops::gemm(d, true, false, outputs_, inputs_, x.n(), 1.f, dy.data(), outputs_, x.data(), inputs_, 1.f,
              dweights_.data(), inputs_);
    if (!din.empty() && din[0])
      ops::gemm(d, false, false, x.n(), inputs_, outputs_, 1.f, dy.data(), outputs_, weights_.data(), inputs_, 1.f,
                din[0]->data(), inputs_);
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
    return tail_.fold(weights_.data(), 1, inputs_, weights, bias);
  }

 private:
  int inputs_, outputs_;
  NormAct tail_;
  Tensor weights_, dweights_;  // (outputs, inputs)
};

}  // namespace

std::unique_ptr<Layer> make_connected(const Scope& cfg, const std::vector<Shape>& in, Rng& rng) {
  const Section& sec = cfg.sec;
  const int output = positive_key(sec, "output");
  const ops::Act act = read_activation(sec);
  // norm= only from this section; the norm's own keys still fall back to [net].
  std::unique_ptr<Norm> norm = make_norm(sec.get_choice("norm", "none", norm_names()), cfg, output, true);
  return std::make_unique<Connected>(int(in.at(0).chw()), output, NormAct(std::move(norm), act), read_weight_init(cfg),
                                     rng);
}

}  // namespace mabdet
