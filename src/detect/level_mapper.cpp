#include "mabdet/detect/level_mapper.h"

#include <cmath>

#include "detect/check.h"

namespace mabdet::detect {

void LevelMapper::assign(const Tensor& boxes, IndexTensor& levels) const {
  require_rows("LevelMapper::assign", "boxes", boxes, 4);
  MABDET_ASSERT(min_level <= max_level, "LevelMapper: levels ", min_level, "..", max_level);
  levels.reshape(boxes.n(), 1);
  for (int i = 0; i < boxes.n(); ++i) {
    const float* b = boxes.data() + 4 * size_t(i);
    const float s = std::sqrt((b[2] - b[0]) * (b[3] - b[1]));
    // Both peers compute in float32; the eps only decides boxes at exact powers of two.
    const float lvl = style == LevelStyle::Torchvision
                          ? float(canonical_level) + std::log2(s / canonical_size) + 1e-6f
                          : float(canonical_level) + std::log2(s / canonical_size + 1e-8f);
    const float f = std::floor(lvl);
    // Empty boxes (-inf) and inverted ones (NaN) go to the finest level.
    const int k = f >= float(max_level) ? max_level : f >= float(min_level) ? int(f) : min_level;
    levels[i] = k - min_level;
  }
}

}  // namespace mabdet::detect
