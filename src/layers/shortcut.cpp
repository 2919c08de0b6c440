// [shortcut]: out = act(sum of the inputs), the residual add. darknet's `from=-3` names the second
// input; the previous layer is the implicit first. All inputs must have the same shape.
#include "layers/factories.h"
#include "layers/factory_util.h"
#include "layers/norm_act.h"

namespace mabdet {
namespace {

class Shortcut : public Layer {
 public:
  explicit Shortcut(ops::Act act) : act_(act) {}
  std::string type() const override { return "shortcut"; }

  Shape reshape(const std::vector<Shape>& in) override {
    for (size_t i = 1; i < in.size(); ++i)
      if (in[i] != in[0]) fail("shortcut: input shapes differ: ", in[0].str(), " vs ", in[i].str(), " (input ", i, ")");
    return in[0];
  }

  void forward(Context& ctx, const Inputs& in, Tensor& out) override {
    const Device d = out.device();
    ops::copy(d, out.size(), in[0]->data(), out.data());  // (N, C, H, W)
    for (size_t i = 1; i < in.size(); ++i) ops::axpy(d, out.size(), 1.f, in[i]->data(), out.data());
    ops::activate(d, act_, out.data(), out.size());
  }

  bool backward_reads_inputs() const override { return false; }
  bool backward_reads_output() const override { return act_ != ops::Act::Linear; }
  bool writes_fresh_grads() const override { return true; }

  void backward(Context& ctx, const Inputs& in, const Tensor& out, const Tensor& dout,
                const InputGrads& din) override {
    const Device d = dout.device();
    const float* g = dout.data();  // (N, C, H, W) dL/d(sum)
    if (act_ != ops::Act::Linear) {  // dout * act' in the context's transient scratch
      Tensor& delta = ctx.grad_scratch(dout.shape());
      ops::activate_backward(d, act_, out.data(), dout.data(), delta.data(), delta.size());
      g = delta.data();
    }
    for (size_t k = 0; k < din.size(); ++k) {
      if (!din[k]) continue;
      if (din.fresh(k)) ops::copy(d, dout.size(), g, din[k]->data());
      else ops::axpy(d, dout.size(), 1.f, g, din[k]->data());
    }
  }

 private:
  ops::Act act_;
};

}  // namespace

std::unique_ptr<Layer> make_shortcut(const Scope& cfg, const std::vector<Shape>& in, Rng& rng) {
  auto layer = std::make_unique<Shortcut>(read_activation(cfg.sec));
  return reshaped(cfg.sec, std::move(layer), in);
}

}  // namespace mabdet
