#include <doctest/doctest.h>

#include "detect_util.h"
#include "mabdet/detect/level_mapper.h"

using namespace mabdet;
using namespace mabdet::detect;
using namespace mabdet::test;

TEST_CASE("detect level mapper: torchvision's LevelMapper and Detectron2's assign_boxes_to_levels") {
  const Fixture f = detect_fixture("level_mapper");
  const Tensor boxes = rows_from(get(f, "boxes"), 4);
  IndexTensor levels;
  LevelMapper m;  // levels 2..5, 224 at level 4, torchvision's eps
  m.assign(boxes, levels);
  CHECK(values(levels) == get(f, "tv_levels"));
  m.style = LevelStyle::Detectron2;
  m.assign(boxes, levels);
  CHECK(values(levels) == get(f, "d2_levels"));
}

TEST_CASE("detect level mapper: powers of two land on their level; empty boxes go to the finest") {
  Tensor b(5, 4);
  const float v[] = {0, 0, 224, 224, 0, 0, 112, 112, 0, 0, 111, 112, 0, 0, 0, 0, 5, 5, 4, 6};  // last: inverted, area -1
  std::copy(v, v + 20, b.data());
  IndexTensor levels;
  LevelMapper m{3, 6};
  m.assign(b, levels);
  CHECK(values(levels) == std::vector<double>{1, 0, 0, 0, 0});  // level 4, 3, below 3, empty, NaN size
  m.min_level = 2;
  m.assign(b, levels);
  CHECK(values(levels) == std::vector<double>{2, 1, 0, 0, 0});
}
