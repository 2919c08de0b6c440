// The single explicit table of cfg section types -> layer factories (registry.cpp).
#pragma once
#include <memory>
#include <vector>

#include "mabdet/cfg.h"
#include "mabdet/layer.h"
#include "mabdet/rng.h"

namespace mabdet {

// A factory reads its keys from cfg (section, falling back to [net] where a key is inheritable)
// and may use the build-time input shapes (e.g. for channel counts). Inputs come from `from=`,
// resolved by the Network; min/max_inputs count the Float ones. `rng` (seeded from [net] seed=) initializes weights.
using LayerFactory = std::unique_ptr<Layer> (*)(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);

struct LayerType {
  const char* name;        // section name, e.g. "convolutional"
  LayerFactory make;
  int min_inputs, max_inputs;  // max_inputs < 0: any number
  // darknet's [shortcut from=-3]: the previous layer is an implicit first input.
  bool implicit_previous;
  int index_inputs = 0;  // Index inputs (from=NAME:PORT of an Index port) the layer takes
};

const LayerType* find_layer_type(const std::string& name);
const std::vector<LayerType>& layer_types();

}  // namespace mabdet
