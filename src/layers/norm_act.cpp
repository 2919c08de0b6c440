#include "layers/norm_act.h"

namespace mabdet {

ops::Act read_activation(const Section& sec) {
  return ops::parse_act(sec.get_choice("activation", "linear", {"linear", "relu", "leaky", "logistic"}));
}

Tensor& NormAct::pre(const Context& ctx, Tensor& out) {
  kept_pre_ = !ctx.forward_only;
  if (!kept_pre_) return out;
  pre_.reshape(out.shape());
  return pre_;
}

void NormAct::forward(Context& ctx, Tensor& out) {
  norm_->forward(ctx, kept_pre_ ? pre_ : out, out);
  ops::activate(out.device(), act_, out.data(), out.size());
}

// dL/dnormed = dout * act'(out) goes into the scratch, and the norm's backward then overwrites it
// with dL/dpre value by value: one transient buffer, nothing zeroed.
const Tensor& NormAct::backward(Context& ctx, const Tensor& out, const Tensor& dout) {
  MABDET_ASSERT(kept_pre_, "NormAct: backward after a forward-only forward, which keeps no norm input");
  Tensor& g = ctx.grad_scratch(dout.shape());  // `out` may hold no storage when the act is linear
  if (act_ == ops::Act::Linear) {
    norm_->backward(ctx, pre_, dout, g, false);
    return g;
  }
  ops::activate_backward(dout.device(), act_, out.data(), dout.data(), g.data(), g.size());
  norm_->backward(ctx, pre_, g, g, false);
  return g;
}

bool NormAct::fold(const float* w, int outer, int inner, Tensor& weights, Tensor& bias) const {
  Tensor scale, shift;
  if (!norm_->inference_affine(scale, shift)) return false;
  const int F = int(scale.size());
  MABDET_ASSERT(weights.size() == size_t(outer) * F * inner, "fold: ", weights.size(), " weights for ", outer, "x", F,
                "x", inner);
  for (int o = 0; o < outer; ++o)
    for (int f = 0; f < F; ++f) {
      const size_t at = (size_t(o) * F + f) * inner;
      for (int j = 0; j < inner; ++j) weights[at + j] = w[at + j] * scale[f];
    }
  bias.reshape(1, F);
  bias.copy_from(shift);
  return true;
}

static std::string prefixed(const std::string& name) {
  return name.rfind("norm.", 0) == 0 ? name : "norm." + name;
}

std::vector<Param> NormAct::params() {
  std::vector<Param> ps = norm_->params();
  for (Param& p : ps) p.name = prefixed(p.name);
  return ps;
}

std::vector<State> NormAct::state() {
  std::vector<State> ss = norm_->state();
  for (State& s : ss) s.name = prefixed(s.name);
  return ss;
}

}  // namespace mabdet
