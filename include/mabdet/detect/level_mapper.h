// FPN level of each RoI from its scale: level = floor(4 + log2(sqrt(area) / 224)), clamped to
// [min_level, max_level] (the FPN paper's eq. 1, canonical 224 pixels at level 4).
#pragma once
#include "mabdet/tensor.h"

namespace mabdet::detect {

enum class LevelStyle {
  // torchvision LevelMapper (default): floor(4 + log2(s / 224) + 1e-6), in float.
  Torchvision,
  // Detectron2 assign_boxes_to_levels: floor(4 + log2(s / 224 + 1e-8)), in float.
  Detectron2,
};

struct LevelMapper {
  int min_level = 2, max_level = 5;
  float canonical_size = 224.f;
  int canonical_level = 4;
  LevelStyle style = LevelStyle::Torchvision;

  // levels (R, 1): the level of each box (R, 4) minus min_level, so 0 is the finest level pooled.
  void assign(const Tensor& boxes, IndexTensor& levels) const;
};

}  // namespace mabdet::detect
