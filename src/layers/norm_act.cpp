#include "layers/norm_act.h"

namespace mabdet {

ops::Act read_activation(const Section& sec) {
  return ops::parse_act(sec.get_choice("activation", "linear", {"linear", "relu", "leaky", "logistic"}));
}

void NormAct::reshape(const Shape& s) {
  pre_.reshape(s);
  dpre_.reshape(s);
  if (act_ != ops::Act::Linear) {
    normed_.reshape(s);
    delta_.reshape(s);
  }
  norm_->reshape(s);
}

void NormAct::forward(Context& ctx, Tensor& out) {
  if (act_ == ops::Act::Linear) {
    norm_->forward(ctx, pre_, out);
    return;
  }
  norm_->forward(ctx, pre_, normed_);
  ops::copy(out.device(), out.size(), normed_.data(), out.data());
  ops::activate(out.device(), act_, out.data(), out.size());
}

const Tensor& NormAct::backward(Context& ctx, const Tensor& out, const Tensor& dout) {
  const Tensor* dnormed = &dout;
  if (act_ != ops::Act::Linear) {
    ops::copy(dout.device(), dout.size(), dout.data(), delta_.data());
    ops::activate_backward(dout.device(), act_, out.data(), delta_.data(), delta_.size());
    dnormed = &delta_;
  }
  dpre_.zero();
  norm_->backward(ctx, pre_, act_ == ops::Act::Linear ? out : normed_, *dnormed, dpre_);
  return dpre_;
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
