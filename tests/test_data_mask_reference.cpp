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

namespace {
// The cases at $env_name, else at `fallback`: at least 10 of them.
nlohmann::json load_cases(const char* env_name, const char* fallback) {
  const char* env = std::getenv(env_name);
  const std::string path = env ? env : fallback;
  std::ifstream f(path);
  REQUIRE_MESSAGE(f.good(), "cannot open ", path);
  nlohmann::json cases = nlohmann::json::parse(f);
  REQUIRE(cases.size() >= 10);
  return cases;
}

// Case c's resize of an in_w x in_h image to its out_w x out_h, flipped as it says.
ResizePlan plan_of(const nlohmann::json& c, int in_w, int in_h) {
  ResizePlan p;
  p.in_w = in_w;
  p.in_h = in_h;
  p.out_w = c["out_w"];
  p.out_h = c["out_h"];
  p.sx = float(double(p.out_w) / p.in_w);
  p.sy = float(double(p.out_h) / p.in_h);
  p.flip = c["flip"];
  return p;
}

// The M x M target of case c's box b.
std::vector<float> target_of(const GtMask& m, const ResizePlan& p, const nlohmann::json& c, size_t b, int M) {
  std::vector<float> box = c["boxes"][b].get<std::vector<float>>();
  std::vector<float> out(size_t(M) * M);
  mask_target(m, p, box.data(), M, out.data());
  return out;
}
}  // namespace

TEST_CASE("mask targets: RLE path matches torchvision roi_align over the resized, flipped bitmask") {
  const nlohmann::json cases = load_cases("MABDET_MASK_TARGET_CASES", "tests/data/mask_target_cases.json");
  int cells = 0, ones = 0, borderline = 0;
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const auto& c = cases[ci];
    CAPTURE(ci);
    GtMask m;
    m.kind = GtMask::Kind::Rle;
    m.h = c["h"];
    m.w = c["w"];
    m.counts = c["counts"].get<std::vector<uint32_t>>();
    const ResizePlan p = plan_of(c, m.w, m.h);
    const int M = c["M"];
    for (size_t b = 0; b < c["boxes"].size(); ++b) {
      CAPTURE(b);
      std::vector<double> raw = c["raw"][b].get<std::vector<double>>();
      const std::vector<float> out = target_of(m, p, c, b, M);
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
  const nlohmann::json cases = load_cases("MABDET_POLYGON_TARGET_CASES", "tests/data/polygon_target_cases.json");
  int cells = 0, ones = 0, differ = 0;
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const auto& c = cases[ci];
    CAPTURE(ci);
    GtMask m;
    m.kind = GtMask::Kind::Polygons;
    m.polygons = c["polygons"].get<std::vector<std::vector<double>>>();
    const ResizePlan p = plan_of(c, c["in_w"], c["in_h"]);
    const int M = c["M"];
    for (size_t b = 0; b < c["boxes"].size(); ++b) {
      CAPTURE(b);
      std::vector<int> want = c["targets"][b].get<std::vector<int>>();
      const std::vector<float> out = target_of(m, p, c, b, M);
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
