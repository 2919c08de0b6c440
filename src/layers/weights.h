// The weight tensor of the weighted layers (convolutional, deconvolutional, connected).
#pragma once
#include <cmath>
#include <vector>

#include "layers/norm_act.h"
#include "mabdet/cfg.h"
#include "mabdet/rng.h"

namespace mabdet {
// How a weighted layer draws its weights (cfg key weight_init=, [net] or per section):
// he_normal, N(0, 2/fan) as ResNets are trained from scratch with; torch, PyTorch's own default
// for Conv2d/Linear (kaiming_uniform_ with a=sqrt(5): U(-1/sqrt(fan), 1/sqrt(fan)), a std 2.45x
// smaller), what torchvision's detectors start from wherever they do not override it.
enum class WeightInit { HeNormal, Torch };

// weight_init= of the section, else of [net]; he_normal when neither says.
inline WeightInit read_weight_init(const Scope& cfg) {
  return cfg.get_choice("weight_init", "he_normal", {"he_normal", "torch"}) == "torch" ? WeightInit::Torch
                                                                                         : WeightInit::HeNormal;
}

// Shapes w and dw, zeroes dw and draws w as `kind` says over `fan` (fan_in).
inline void init_weights(Tensor& w, Tensor& dw, const Shape& shape, double fan, WeightInit kind, Rng& rng) {
  w.reshape(shape);
  dw.reshape(shape);
  dw.zero();
  if (kind == WeightInit::Torch) {
    const double bound = 1.0 / std::sqrt(fan);
    for (size_t i = 0; i < w.size(); ++i) w[i] = float(rng.uniform(-bound, bound));
    return;
  }
  const double std = std::sqrt(2.0 / fan);
  for (size_t i = 0; i < w.size(); ++i) w[i] = float(std * rng.normal());
}
// The weights (decayed), then the tail's norm params.
inline std::vector<Param> weights_and_tail_params(Tensor& w, Tensor& dw, NormAct& tail) {
  std::vector<Param> ps{{"weights", &w, &dw, 1.f, 1.f}};
  for (Param& p : tail.params()) ps.push_back(p);
  return ps;
}
}  // namespace mabdet
