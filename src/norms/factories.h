// One factory per norm (one file each); norm.cpp's table names them.
#pragma once
#include "mabdet/norm.h"
#include "mabdet/ops.h"

namespace mabdet {
std::unique_ptr<Norm> make_none_norm(const Scope& cfg, int channels, bool bias_default);
}  // namespace mabdet
