// One factory per layer type (one file each); registry.cpp's table names them.
#pragma once
#include "layers/registry.h"

namespace mabdet {
}  // namespace mabdet
