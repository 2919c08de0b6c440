// SGD with momentum and weight decay (PyTorch's form: v = mu*v + (g + wd*w); w -= lr*v), per-param
// lr and decay multipliers (no decay on biases and norm affine), and the darknet lr schedule.
#pragma once
#include <vector>

#include "mabdet/layer.h"
#include "mabdet/network.h"

namespace mabdet {

// lr for optimizer step `step` (0-based): burn_in ramp, then policy (constant | steps).
float learning_rate_at(const NetConfig& c, int64_t step);

class Sgd {
 public:
  Sgd(std::vector<Param> params, float momentum, float decay);
  // Applies one update from the params' grads (the caller zeroes grads afterwards).
  void step(float lr);
  std::vector<Tensor>& velocity() { return velocity_; }

 private:
  std::vector<Param> params_;
  std::vector<Tensor> velocity_;  // one per param, same shape
  float momentum_, decay_;
};

}  // namespace mabdet
