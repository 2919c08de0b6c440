// COCO evaluation against the numbers pycocotools printed (1e-4): bbox, segm, and segm on results
// that also carry a bbox (areas then come from the boxes). The cases committed under
// tests/fixtures/cocoeval always run; ../shared/fixtures/cocoeval adds bigger ones where a
// checkout has it beside it, and is reported as skipped otherwise.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mabdet/coco_eval.h"

using namespace mabdet;
namespace fs = std::filesystem;

namespace {
const fs::path kCommitted = "tests/fixtures/cocoeval";
const fs::path kShared = "../shared/fixtures/cocoeval";

void check_against(const CocoEvalResult& r, const nlohmann::json& e) {
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

// Evaluates the three runs of one case folder; returns how many ran.
int check_case(const fs::path& dir) {
  const std::string name = dir.string();
  CAPTURE(name);
  std::ifstream f(dir / "expected.json");
  REQUIRE_MESSAGE(f, "missing ", (dir / "expected.json").string());
  const auto expected = nlohmann::json::parse(f);
  const CocoGroundTruth gt = CocoGroundTruth::load((dir / "gt.json").string());
  struct Run { const char* key; const char* file; IouType iou; };
  int runs = 0;
  for (const Run& run : {Run{"bbox", "results_bbox.json", IouType::Bbox},
                         Run{"segm", "results_segm.json", IouType::Segm},
                         Run{"segm_with_bbox_field", "results_both.json", IouType::Segm}}) {
    CAPTURE(run.key);
    const CocoResults res = CocoResults::load((dir / run.file).string(), gt, run.iou);
    const CocoEvalResult r = coco_evaluate(gt, res, run.iou);
    CHECK(r.warnings.empty());
    check_against(r, expected[run.key]);
    ++runs;
  }
  return runs;
}
}  // namespace

TEST_CASE("cocoeval: committed fixtures reproduce pycocotools' numbers") {
  int runs = 0;
  for (const char* name : {"tiny", "small"}) runs += check_case(kCommitted / name);
  CHECK(runs == 6);
}

TEST_CASE("cocoeval: ../shared fixtures reproduce pycocotools' numbers" * doctest::skip(!fs::is_directory(kShared))) {
  int runs = 0;
  for (const char* name : {"tiny", "small", "medium", "large"}) runs += check_case(kShared / name);
  CHECK(runs == 12);
}
