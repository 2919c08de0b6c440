// A detection batch's ground truth for tests: every image (but `empty_image`, which has none, as
// images may) holds the same two boxes of classes 0 and 3, each with a triangle polygon mask,
// at an identity resize plan of size x size. The caller fills b.images.
#pragma once
#include "mabdet/data/batch.h"

namespace mabdet::test {
inline void two_box_targets(Batch& b, int n, int size, int empty_image = -1) {
  b.meta.assign(size_t(n), {});
  b.targets.assign(size_t(n), {});
  for (int i = 0; i < n; ++i) {
    b.meta[size_t(i)].plan = ResizePlan{size, size, size, size, 1.f, 1.f, false};
    if (i == empty_image) continue;
    Targets& t = b.targets[size_t(i)];
    t.boxes = {10, 12, 60, 70, 80, 20, 150, 90};
    t.labels = {0, 3};
    t.ann_ids = {1, 2};
    for (int k = 0; k < 2; ++k) {
      GtMask m;
      m.kind = GtMask::Kind::Polygons;
      const float* bx = t.boxes.data() + k * 4;
      m.polygons = {{bx[0], bx[1], bx[2], bx[1], bx[2], bx[3]}};
      t.masks.push_back(m);
    }
  }
}
}  // namespace mabdet::test
