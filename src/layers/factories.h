// One factory per layer type (one file each); registry.cpp's table names them.
#pragma once
#include "layers/registry.h"

namespace mabdet {
std::unique_ptr<Layer> make_normalization(const Scope& cfg, const std::vector<Shape>& in, Rng& rng);
}  // namespace mabdet
