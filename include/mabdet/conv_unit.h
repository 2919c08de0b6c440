// The conv + norm + activation unit that composite sections (RPN head, 4conv1fc box head, mask
// head) are built from: the very layer behind [convolutional], so every norm in every head follows
// norm= (section first, then [net]) with the same keys, centring and checkpoints as a plain conv.
// A composite calls the unit's run_forward/run_backward and lists its params and state.
#pragma once
#include <memory>
#include <string>

#include "mabdet/cfg.h"
#include "mabdet/layer.h"
#include "mabdet/rng.h"

namespace mabdet {

struct ConvSpec {
  int filters = 0;
  int size = 3;
  int stride = 1;
  int padding = -1;  // -1: "same" (dilation * (size / 2))
  int dilation = 1;
  int groups = 1;
  std::string activation = "relu";  // linear | relu | leaky | logistic
};

// The norm (norm=, centralize=, the norm's keys) comes from `cfg`, as for a [convolutional]
// section; the geometry from `spec`. Fails naming the section on a bad spec.
std::unique_ptr<Layer> make_conv_unit(const Scope& cfg, int in_channels, const ConvSpec& spec, Rng& rng);

}  // namespace mabdet
