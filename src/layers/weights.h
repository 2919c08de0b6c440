// The weight tensor of the weighted layers (convolutional, deconvolutional, connected).
#pragma once
#include <cmath>
#include <vector>

#include "layers/norm_act.h"
#include "mabdet/rng.h"

namespace mabdet {
// Shapes w and dw, zeroes dw and draws w from He/Kaiming normal over `fan`.
inline void he_normal_weights(Tensor& w, Tensor& dw, const Shape& shape, double fan, Rng& rng) {
  w.reshape(shape);
  dw.reshape(shape);
  dw.zero();
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
