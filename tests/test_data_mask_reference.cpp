// Per-RoI mask targets against independent references, both paths:
//  - RLE: tests/data/mask_target_cases.json from scripts/data/gen_mask_target_cases.py
//    (nearest-resize + flip the bitmask, torchvision roi_align aligned=True, adaptive sampling);
//  - polygons: tests/data/polygon_target_cases.json from scripts/data/gen_polygon_target_cases.py
//    (Detectron2's procedure with pycocotools' rasterization).
// tests/scripts/data_mask_targets_reference.sh regenerates fresh seeded sets and points
// MABDET_MASK_TARGET_CASES / MABDET_POLYGON_TARGET_CASES at them.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mabdet/data/mask_target.h"

using namespace mabdet;

TEST_CASE("mask targets: RLE path matches torchvision roi_align over the resized, flipped bitmask") {
  const char* env = std::getenv("MABDET_MASK_TARGET_CASES");
  const std::string path = env ? env : "tests/data/mask_target_cases.json";
  std::ifstream f(path);
  REQUIRE_MESSAGE(f.good(), "cannot open ", path);
  nlohmann::json cases = nlohmann::json::parse(f);
  REQUIRE(cases.size() >= 10);
  int cells = 0, ones = 0, borderline = 0;
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const auto& c = cases[ci];
    CAPTURE(ci);
    GtMask m;
    m.kind = GtMask::Kind::Rle;
    m.h = c["h"];
    m.w = c["w"];
    m.counts = c["counts"].get<std::vector<uint32_t>>();
    ResizePlan p;
    p.in_w = m.w;
    p.in_h = m.h;
    p.out_w = c["out_w"];
    p.out_h = c["out_h"];
    p.sx = float(double(p.out_w) / p.in_w);
    p.sy = float(double(p.out_h) / p.in_h);
    p.flip = c["flip"];
    const int M = c["M"];
    for (size_t b = 0; b < c["boxes"].size(); ++b) {
      CAPTURE(b);
      std::vector<float> box = c["boxes"][b].get<std::vector<float>>();
      std::vector<double> raw = c["raw"][b].get<std::vector<double>>();
      std::vector<float> out(size_t(M) * M);
      mask_target(m, p, box.data(), M, out.data());
      for (int i = 0; i < M * M; ++i) {
        ++cells;
        if (std::fabs(raw[size_t(i)] - 0.5) < 1e-4) {  // exactly at the threshold: either is right
          ++borderline;
          continue;
        }
        ones += raw[size_t(i)] >= 0.5;
        REQUIRE(out[size_t(i)] == (raw[size_t(i)] >= 0.5 ? 1.f : 0.f));
      }
    }
  }
  MESSAGE(cells, " cells, ", ones, " inside, ", borderline, " at 0.5");
  CHECK(ones > cells / 10);
  CHECK(borderline < cells / 20);
}

TEST_CASE("mask targets: polygon path matches Detectron2's procedure with pycocotools") {
  const char* env = std::getenv("MABDET_POLYGON_TARGET_CASES");
  const std::string path = env ? env : "tests/data/polygon_target_cases.json";
  std::ifstream f(path);
  REQUIRE_MESSAGE(f.good(), "cannot open ", path);
  nlohmann::json cases = nlohmann::json::parse(f);
  REQUIRE(cases.size() >= 10);
  int cells = 0, ones = 0, differ = 0;
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const auto& c = cases[ci];
    CAPTURE(ci);
    GtMask m;
    m.kind = GtMask::Kind::Polygons;
    m.polygons = c["polygons"].get<std::vector<std::vector<double>>>();
    ResizePlan p;
    p.in_w = c["in_w"];
    p.in_h = c["in_h"];
    p.out_w = c["out_w"];
    p.out_h = c["out_h"];
    p.sx = float(double(p.out_w) / p.in_w);
    p.sy = float(double(p.out_h) / p.in_h);
    p.flip = c["flip"];
    const int M = c["M"];
    for (size_t b = 0; b < c["boxes"].size(); ++b) {
      CAPTURE(b);
      std::vector<float> box = c["boxes"][b].get<std::vector<float>>();
      std::vector<int> want = c["targets"][b].get<std::vector<int>>();
      std::vector<float> out(size_t(M) * M);
      mask_target(m, p, box.data(), M, out.data());
      for (int i = 0; i < M * M; ++i) {
        ++cells;
        ones += want[size_t(i)];
        differ += out[size_t(i)] != float(want[size_t(i)]);
      }
    }
  }
  MESSAGE(cells, " cells, ", ones, " inside, ", differ, " differ");
  CHECK(ones > cells / 10);
  CHECK(differ == 0);
}
