#include "layers/registry.h"

#include "layers/factories.h"

namespace mabdet {

const std::vector<LayerType>& layer_types() {
  static const std::vector<LayerType> types = {
      {"normalization", make_normalization, 1, 1, false},
  };
  return types;
}

const LayerType* find_layer_type(const std::string& name) {
  for (const LayerType& t : layer_types())
    if (name == t.name) return &t;
  return nullptr;
}

}  // namespace mabdet
