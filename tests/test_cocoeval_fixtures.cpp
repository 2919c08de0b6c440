// Every case in ../shared/fixtures/cocoeval against the numbers pycocotools printed (1e-4):
// bbox, segm, and segm on results that also carry a bbox (areas then come from the boxes).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mabdet/coco_eval.h"

using namespace mabdet;
namespace fs = std::filesystem;

static void check_against(const CocoEvalResult& r, const nlohmann::json& e) {
  REQUIRE(e["stats"].size() == 12);
  for (size_t i = 0; i < 12; ++i) {
    CAPTURE(i);
    CHECK(std::abs(r.stats[i] - e["stats"][i].get<double>()) <= 1e-4);
  }
  const auto& pc = e["per_category_ap"];
  REQUIRE(pc.size() == r.per_category_ap.size());
  for (const auto& [id, ap] : r.per_category_ap) {
    CAPTURE(id);
    REQUIRE(pc.contains(std::to_string(id)));
    CHECK(std::abs(ap - pc[std::to_string(id)].get<double>()) <= 1e-4);
  }
}

TEST_CASE("cocoeval: shared fixtures reproduce pycocotools' numbers") {
  const fs::path root = "../shared/fixtures/cocoeval";
  REQUIRE_MESSAGE(fs::is_directory(root), "missing ", root.string());
  int cases = 0;
  for (const char* name : {"tiny", "small", "medium", "large"}) {
    const fs::path dir = root / name;
    REQUIRE_MESSAGE(fs::is_directory(dir), "missing ", dir.string());
    CAPTURE(name);
    std::ifstream f(dir / "expected.json");
    const auto expected = nlohmann::json::parse(f);
    const CocoGroundTruth gt = CocoGroundTruth::load((dir / "gt.json").string());
    struct Run { const char* key; const char* file; IouType iou; };
    for (const Run& run : {Run{"bbox", "results_bbox.json", IouType::Bbox},
                           Run{"segm", "results_segm.json", IouType::Segm},
                           Run{"segm_with_bbox_field", "results_both.json", IouType::Segm}}) {
      CAPTURE(run.key);
      const CocoResults res = CocoResults::load((dir / run.file).string(), gt, run.iou);
      const CocoEvalResult r = coco_evaluate(gt, res, run.iou);
      CHECK(r.warnings.empty());
      check_against(r, expected[run.key]);
      ++cases;
    }
  }
  CHECK(cases == 12);
}
