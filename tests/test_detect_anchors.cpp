#include <doctest/doctest.h>

#include "detect_util.h"
#include "mabdet/detect/anchors.h"
#include "test_util.h"

using namespace mabdet;
using namespace mabdet::detect;
using namespace mabdet::test;

// Anchors are the same float computation on both sides: equal to the bit.
TEST_CASE("detect anchors: torchvision AnchorGenerator, two levels, several sizes and ratios") {
  const Fixture f = detect_fixture("anchors");
  AnchorGenerator gen;
  gen.style = AnchorStyle::Torchvision;
  for (int lvl = 0; lvl < 2; ++lvl) {
    const std::string p = "tv" + std::to_string(lvl) + "_";
    gen.sizes.push_back(get(f, p + "sizes"));
    gen.aspect_ratios.push_back(get(f, p + "ratios"));
    gen.strides.push_back(float(get(f, p + "grid")[2]));
  }
  gen.validate("test");
  for (int lvl = 0; lvl < 2; ++lvl) {
    const std::string p = "tv" + std::to_string(lvl) + "_";
    CAPTURE(p);
    Tensor cell, anchors;
    cell_anchors(gen.sizes[lvl], gen.aspect_ratios[lvl], AnchorStyle::Torchvision, cell);
    CHECK(equal_f32(cell, get(f, p + "cell")));
    const auto& g = get(f, p + "grid");
    gen.generate(lvl, int(g[0]), int(g[1]), anchors);
    CHECK(anchors.n() == int(g[0] * g[1]) * gen.anchors_per_cell(lvl));
    CHECK(equal_f32(anchors, get(f, p + "anchors")));
  }
}

TEST_CASE("detect anchors: Detectron2's cell anchors (no rounding, sizes outer) and offset") {
  const Fixture f = detect_fixture("anchors");
  for (int i = 0; i < 2; ++i) {
    const std::string p = "d2" + std::to_string(i) + "_";
    CAPTURE(p);
    const auto& g = get(f, p + "grid");
    AnchorGenerator gen;  // Detectron2 style is the default
    gen.sizes = {get(f, p + "sizes")};
    gen.aspect_ratios = {get(f, p + "ratios")};
    gen.strides = {float(g[2])};
    gen.offset = float(g[3]);
    gen.validate("test");
    Tensor cell, anchors;
    cell_anchors(gen.sizes[0], gen.aspect_ratios[0], gen.style, cell);
    CHECK(equal_f32(cell, get(f, p + "cell")));
    gen.generate(0, int(g[0]), int(g[1]), anchors);
    CHECK(equal_f32(anchors, get(f, p + "anchors")));
  }
}

TEST_CASE("detect anchors: row order, an empty map, and cfg errors") {
  AnchorGenerator gen;
  gen.sizes = {{32}, {64}};
  gen.aspect_ratios = {{0.5, 1, 2}};
  gen.strides = {4, 8};
  Tensor a;
  gen.generate(1, 2, 3, a);
  REQUIRE(a.shape() == Shape{2 * 3 * 3, 4});
  // anchor 1 (ratio 1, 64 x 64) at (y = 1, x = 2): row (1 * 3 + 2) * 3 + 1, centre (16, 8)
  const float* r = a.data() + 4 * ((1 * 3 + 2) * 3 + 1);
  CHECK(r[0] == -16.f);
  CHECK(r[1] == -24.f);
  CHECK(r[2] == 48.f);
  CHECK(r[3] == 40.f);
  gen.generate(0, 0, 5, a);
  CHECK(a.shape() == Shape{0, 4});

  AnchorGenerator bad = gen;
  bad.sizes = {{32}, {64}, {128}};
  CHECK(error_of([&] { bad.validate("x.cfg:4 [rpn]"); }) ==
        "x.cfg:4 [rpn]: anchor sizes: need 1 list or one per level (2), got 3");
  bad = gen;
  bad.aspect_ratios = {{1, 0}};
  CHECK(error_of([&] { bad.validate("r"); }) == "r: aspect ratios: must be positive, got 0");
  bad = gen;
  bad.offset = 1.f;
  CHECK(error_of([&] { bad.validate("r"); }).find("anchor offset") != std::string::npos);
}

TEST_CASE("detect anchors: the two styles differ by rounding and by order, as docs/detect.md says") {
  Tensor tv, d2;
  cell_anchors({32}, {0.5}, AnchorStyle::Torchvision, tv);
  cell_anchors({32}, {0.5}, AnchorStyle::Detectron2, d2);
  CHECK(tv[0] == -23.f);
  CHECK(tv[1] == -11.f);
  CHECK(d2[0] == doctest::Approx(-22.627417));
  CHECK(d2[1] == doctest::Approx(-11.313708));
  // two sizes, two ratios: torchvision puts ratios outer, Detectron2 sizes outer
  cell_anchors({16, 64}, {1, 4}, AnchorStyle::Torchvision, tv);
  cell_anchors({16, 64}, {1, 4}, AnchorStyle::Detectron2, d2);
  CHECK(tv[2] - tv[0] == 16.f);  // (ratio 1, size 16), (ratio 1, size 64), ...
  CHECK(tv[6] - tv[4] == 64.f);
  CHECK(d2[2] - d2[0] == 16.f);  // (size 16, ratio 1), (size 16, ratio 4), ...
  CHECK(d2[6] - d2[4] == 8.f);
}
