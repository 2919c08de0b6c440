// Mask ops against pycocotools' mask module (exact): tests/data/mask_cases.json is written by
// scripts/cocoeval/gen_mask_cases.py; tests/scripts/cocoeval_vs_pycocotools.sh regenerates a fresh
// seeded set and points MABDET_MASK_CASES at it.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mabdet/error.h"
#include "mabdet/mask.h"
#include "mabdet/rng.h"

using namespace mabdet;
using nlohmann::json;

static json load_cases() {
  const char* env = std::getenv("MABDET_MASK_CASES");
  const std::string path = env ? env : "tests/data/mask_cases.json";
  std::ifstream f(path);
  REQUIRE_MESSAGE(f.good(), "cannot open ", path);
  json j = json::parse(f);
  REQUIRE(j.size() > 0);
  return j;
}

static BoxXYWH box_of(const json& j) { return {j[0], j[1], j[2], j[3]}; }

TEST_CASE("mask: encode/decode round trip on random masks, string form round trip") {
  Rng rng(7);
  for (int it = 0; it < 200; ++it) {
    const uint32_t h = 1 + rng.randint(40), w = 1 + rng.randint(40);
    std::vector<uint8_t> m(size_t(h) * w);
    const double p = rng.uniform();
    for (auto& v : m) v = rng.uniform() < p ? uint8_t(1 + rng.randint(200)) : 0;
    const Rle r = rle_encode(m.data(), h, w);
    const auto back = rle_decode(r);
    for (size_t i = 0; i < m.size(); ++i) REQUIRE(back[i] == (m[i] != 0));
    uint64_t fg = 0;
    for (auto v : m) fg += v != 0;
    CHECK(rle_area(r) == fg);
    CHECK(rle_from_string(rle_to_string(r), h, w) == r);
  }
}

TEST_CASE("mask: malformed counts strings are user errors") {
  CHECK_THROWS_AS(rle_from_string("0 1", 2, 2), Error);
  CHECK_THROWS_AS(rle_from_string("p", 2, 2), Error);  // continuation bit with nothing after
  CHECK_THROWS_AS(rle_decode(Rle{2, 2, {1, 1}}), Error);  // covers 2 of 4 pixels
}

TEST_CASE("mask: pycocotools agreement (encode, string, area, toBbox, frPoly, frBbox, merge, iou)") {
  const json cases = load_cases();
  int n_iou = 0;
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const json& c = cases[ci];
    CAPTURE(ci);
    const uint32_t h = c["h"], w = c["w"];
    std::vector<Rle> all, masks, polys;
    for (const json& m : c["masks"]) {
      Rle r{h, w, m["counts"].get<std::vector<uint32_t>>()};
      const std::string s = m["string"];
      REQUIRE(rle_to_string(r) == s);
      REQUIRE(rle_from_string(s, h, w) == r);
      CHECK(rle_encode(rle_decode(r).data(), h, w) == r);
      CHECK(rle_area(r) == m["area"].get<uint64_t>());
      const BoxXYWH b = rle_to_bbox(r), e = box_of(m["bbox"]);
      CHECK(b == e);
      masks.push_back(r);
      all.push_back(r);
    }
    for (const json& p : c["polygons"]) {
      const auto xy = p["xy"].get<std::vector<double>>();
      const Rle r = rle_from_polygon(xy.data(), xy.size() / 2, h, w);
      REQUIRE_MESSAGE(rle_to_string(r) == p["string"].get<std::string>(), p["xy"].dump());
      polys.push_back(r);
      all.push_back(r);
    }
    for (const json& b : c["boxes"]) {
      const Rle r = rle_from_bbox(box_of(b["box"]), h, w);
      REQUIRE_MESSAGE(rle_to_string(r) == b["string"].get<std::string>(), b["box"].dump());
      all.push_back(r);
    }
    CHECK(rle_to_string(rle_merge(polys)) == c["merged_polygons"].get<std::string>());
    CHECK(rle_to_string(rle_merge(masks, true)) == c["intersected_masks"].get<std::string>());
    const auto crowd = c["crowd"].get<std::vector<int>>();
    for (size_t d = 0; d < all.size(); ++d)
      for (size_t g = 0; g < all.size(); ++g, ++n_iou)
        REQUIRE(rle_iou(all[d], all[g], crowd[g]) == c["iou"][d][g].get<double>());
  }
  CHECK(n_iou > 100);
}

TEST_CASE("mask: polygon rasterization rounds like pycocotools (no fused multiply-add)") {
  // With FMA contraction (-march=native) the boundary of this polygon moves by one pixel.
  const double xy[] = {-10.38, -2.67, -9.77, 2.85, 12.83, -0.23, 10.91, 5.33};
  CHECK(rle_to_string(rle_from_polygon(xy, 4, 34, 29)) == "S11Q1001O00001O000O2O00O1MSa0");
}

TEST_CASE("mask: box IoU, crowd rule and different mask sizes") {
  CHECK(box_iou({0, 0, 10, 10}, {5, 0, 10, 10}, false) == doctest::Approx(50.0 / 150.0));
  CHECK(box_iou({0, 0, 10, 10}, {5, 0, 10, 10}, true) == doctest::Approx(0.5));
  CHECK(box_iou({0, 0, 10, 10}, {10, 0, 10, 10}, false) == 0);
  const Rle a = rle_from_bbox({0, 0, 4, 4}, 8, 8), b = rle_from_bbox({0, 0, 4, 4}, 8, 9);
  CHECK(rle_iou(a, a, false) == 1.0);
  CHECK(rle_iou(a, b, false) == -1.0);
  CHECK(rle_area(a) == 16);
  CHECK(rle_merge({a, b}).counts.empty());
}
