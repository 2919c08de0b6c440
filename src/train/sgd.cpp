#include "mabdet/sgd.h"

#include <cmath>

#include "mabdet/ops.h"

namespace mabdet {

float learning_rate_at(const NetConfig& c, int64_t step) {
  if (c.burn_in > 0 && step < c.burn_in) return c.learning_rate * std::pow(float(step + 1) / c.burn_in, c.power);
  float lr = c.learning_rate;
  if (c.policy == "steps")
    for (size_t i = 0; i < c.steps.size(); ++i)
      if (step >= c.steps[i]) lr *= c.scales[i];
  return lr;
}

Sgd::Sgd(std::vector<Param> params, float momentum, float decay)
    : params_(std::move(params)), momentum_(momentum), decay_(decay) {
  for (const Param& p : params_) {
    velocity_.emplace_back(p.value->shape(), p.value->device());
    velocity_.back().zero();
  }
}

void Sgd::step(float lr) {
  for (size_t i = 0; i < params_.size(); ++i) {
    Param& p = params_[i];
    Tensor& v = velocity_[i];
    MABDET_ASSERT(v.shape() == p.value->shape(), p.name);
    const Device d = p.value->device();
    const size_t n = p.value->size();
    const float wd = decay_ * p.decay_mult;
    if (wd != 0.f) ops::axpy(d, n, wd, p.value->data(), p.grad->data());
    ops::scale(d, n, momentum_, v.data());
    ops::axpy(d, n, 1.f, p.grad->data(), v.data());
    ops::axpy(d, n, -lr * p.lr_mult, v.data(), p.value->data());
  }
}

}  // namespace mabdet
