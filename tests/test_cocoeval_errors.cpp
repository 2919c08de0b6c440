// cocoeval on hand-written files: every user error names the file and the entry, empty results
// warn and score 0, a ground-truth id 0 is counted correctly (with a warning), and in-memory
// detections give the same numbers as the results file they came from.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "mabdet/coco_eval.h"
#include "mabdet/error.h"

using namespace mabdet;
namespace fs = std::filesystem;

namespace {

// Files under a per-process temporary directory, removed at the end of each test.
struct TmpDir {
  fs::path dir = fs::temp_directory_path() / ("mabdet_cocoeval_" + std::to_string(getpid()));
  TmpDir() { fs::create_directories(dir); }
  ~TmpDir() { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  }
};

const char* kGt = R"({
 "images": [{"id": 1, "width": 100, "height": 80}, {"id": 2, "width": 50, "height": 50}],
 "categories": [{"id": 1, "name": "a"}, {"id": 4, "name": "b"}],
 "annotations": [
  {"id": 0, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400, "iscrowd": 0,
   "segmentation": [[10, 10, 30, 10, 30, 30, 10, 30]]},
  {"id": 7, "image_id": 2, "category_id": 1, "bbox": [0, 0, 40, 40], "area": 1600, "iscrowd": 0,
   "segmentation": [[0, 0, 40, 0, 40, 40, 0, 40]]}]})";

// The message of the mabdet::Error that f throws ("" if none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("cocoeval errors: results naming unknown images or categories, missing fields, bad json") {
  TmpDir t;
  const auto gt = CocoGroundTruth::load(t.write("gt.json", kGt));
  struct Case { const char* name; const char* text; std::vector<std::string> parts; };
  const Case cases[] = {
      {"unknown_image.json",
       R"([{"image_id": 1, "category_id": 1, "bbox": [1,2,3,4], "score": 0.5},
           {"image_id": 1, "category_id": 4, "bbox": [1,2,3,4], "score": 0.5},
           {"image_id": 999, "category_id": 1, "bbox": [1,2,3,4], "score": 0.5}])",
       {"unknown_image.json", "entry 2", "image_id 999", "gt.json"}},
      {"unknown_cat.json",
       R"([{"image_id": 1, "category_id": 1, "bbox": [1,2,3,4], "score": 0.5},
           {"image_id": 2, "category_id": 3, "bbox": [1,2,3,4], "score": 0.5}])",
       {"unknown_cat.json", "entry 1", "category_id 3"}},
      {"no_score.json", R"([{"image_id": 1, "category_id": 1, "bbox": [1,2,3,4]}])",
       {"no_score.json", "entry 0", "'score'"}},
      {"no_bbox.json",
       R"([{"image_id": 1, "category_id": 1, "bbox": [1,2,3,4], "score": 0.5},
           {"image_id": 1, "category_id": 1, "score": 0.5}])",
       {"no_bbox.json", "entry 1", "'bbox'"}},
      {"short_bbox.json", R"([{"image_id": 1, "category_id": 1, "bbox": [1,2,3], "score": 1}])",
       {"short_bbox.json", "entry 0", "4 numbers"}},
      {"no_image.json", R"([{"category_id": 1, "bbox": [1,2,3,4], "score": 0.5}])",
       {"no_image.json", "entry 0", "'image_id'"}},
      {"no_mask.json",
       R"([{"image_id": 1, "category_id": 1, "score": 0.5, "segmentation": {"size": [80, 100], "counts": "0"}},
           {"image_id": 1, "category_id": 1, "score": 0.5}])",
       {"no_mask.json", "entry 1", "'segmentation'"}},
      {"truncated.json",
       R"([{"image_id": 1, "category_id": 1, "bbox": [1,2,3,4], "score": 0.5},
           {"image_id": 1, "category_id": )",
       {"truncated.json", "entry 1", "malformed json"}},
      {"missing_comma.json",
       R"([{"image_id": 1, "category_id": 1, "bbox": [1,2,3,4], "score": 0.5},
           {"image_id": 1, "category_id": 1, "bbox": [1,2,3,4], "score": 0.5},
           {"image_id": 1 "category_id": 1, "bbox": [1,2,3,4], "score": 0.5}])",
       {"missing_comma.json", "entry 2", "malformed json"}},
      {"bad_number.json",
       R"([{"image_id": 1, "category_id": 1, "bbox": [1,2,3,4], "score": 0.5},
           {"image_id": 1, "category_id": 1, "bbox": [1,2,3,4], "score": "high"}])",
       {"bad_number.json", "entry 1", "'score'"}},
      {"not_a_list.json", R"({"image_id": 1})", {"not_a_list.json", "list"}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const std::string path = t.write(c.name, c.text);
    const std::string msg = error_of([&] { CocoResults::load(path, gt, IouType::Bbox); });
    CAPTURE(msg);
    REQUIRE(!msg.empty());
    for (const std::string& p : c.parts) CHECK(has(msg, p));
  }
  CHECK(has(error_of([&] { CocoResults::load((t.dir / "absent.json").string(), gt, IouType::Bbox); }),
            "absent.json"));
}

TEST_CASE("cocoeval errors: ground truth with a missing field or bad segmentation") {
  TmpDir t;
  const std::string no_area = t.write("gt_no_area.json", R"({"images": [{"id": 1, "width": 9, "height": 9}],
    "categories": [{"id": 1}], "annotations": [
    {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1,1,2,2], "area": 4, "iscrowd": 0},
    {"id": 2, "image_id": 1, "category_id": 1, "bbox": [1,1,2,2], "iscrowd": 0}]})");
  std::string msg = error_of([&] { CocoGroundTruth::load(no_area); });
  CHECK(has(msg, "gt_no_area.json"));
  CHECK(has(msg, "annotations entry 1"));
  CHECK(has(msg, "'area'"));

  const std::string bad_segm = t.write("gt_bad_segm.json", R"({"images": [{"id": 1, "width": 9, "height": 9}],
    "categories": [{"id": 1}], "annotations": [
    {"id": 5, "image_id": 1, "category_id": 1, "bbox": [1,1,2,2], "area": 4, "iscrowd": 0,
     "segmentation": []}]})");
  const auto gt = CocoGroundTruth::load(bad_segm);
  const std::string res = t.write("r.json", R"([{"image_id": 1, "category_id": 1, "bbox": [1,1,2,2], "score": 1}])");
  CHECK_NOTHROW(coco_evaluate(gt, CocoResults::load(res, gt, IouType::Bbox), IouType::Bbox));
  msg = error_of([&] { coco_evaluate(gt, CocoResults::load(res, gt, IouType::Segm), IouType::Segm); });
  CHECK(has(msg, "gt_bad_segm.json"));
  CHECK(has(msg, "annotation id 5"));
  CHECK_THROWS_AS(parse_iou_type("keypoints"), Error);
}

TEST_CASE("cocoeval: an empty results list warns and scores 0 where ground truth exists") {
  TmpDir t;
  const auto gt = CocoGroundTruth::load(t.write("gt.json", kGt));
  for (IouType iou : {IouType::Bbox, IouType::Segm}) {
    const auto r = coco_evaluate(gt, CocoResults::load(t.write("empty.json", " [ ] "), gt, iou), iou);
    REQUIRE(r.warnings.size() == 1);
    CHECK(has(r.warnings[0], "empty.json"));
    CHECK(has(r.warnings[0], "no detections"));
    // Ground truth: one small (400 px) and one medium (1600 px) box, none large.
    const std::array<double, 12> expected = {0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, -1};
    CHECK(r.stats == expected);
    REQUIRE(r.per_category_ap.size() == 2);
    CHECK(r.per_category_ap[0] == std::make_pair(int64_t(1), 0.0));
    CHECK(r.per_category_ap[1] == std::make_pair(int64_t(4), -1.0));
  }
}

TEST_CASE("cocoeval: a ground-truth annotation with id 0 counts as matched, with a warning") {
  TmpDir t;
  const auto gt = CocoGroundTruth::load(t.write("gt.json", kGt));
  // Perfect detections for both objects: pycocotools would score the id-0 match as a false
  // positive (AP 0.5 at every threshold); the right answer is 1.
  const std::string res = t.write("perfect.json", R"([
    {"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9},
    {"image_id": 2, "category_id": 1, "bbox": [0, 0, 40, 40], "score": 0.8}])");
  for (IouType iou : {IouType::Bbox, IouType::Segm}) {
    const auto r = coco_evaluate(gt, CocoResults::load(res, gt, iou), iou);
    CHECK(r.stats[0] == doctest::Approx(1.0));
    CHECK(r.stats[8] == doctest::Approx(1.0));
    REQUIRE(r.warnings.size() == 1);
    CHECK(has(r.warnings[0], "id 0"));
    CHECK(has(r.warnings[0], "#664"));
  }
  // Without a match to id 0 there is nothing to warn about.
  const std::string miss = t.write("miss.json", R"([{"image_id": 2, "category_id": 1, "bbox": [0, 0, 40, 40], "score": 0.8}])");
  CHECK(coco_evaluate(gt, CocoResults::load(miss, gt, IouType::Bbox), IouType::Bbox).warnings.empty());
}

TEST_CASE("cocoeval: in-memory detections give the file's numbers (bbox and segm)") {
  const std::string dir = "tests/fixtures/cocoeval/small/";
  const auto gt = CocoGroundTruth::load(dir + "gt.json");
  // results_bbox.json and results_segm.json hold the same detections in the same order, one with
  // boxes, the other with compressed RLE masks.
  auto read = [&](const std::string& name) {
    std::ifstream f(dir + name);
    return nlohmann::json::parse(f);
  };
  const auto jb = read("results_bbox.json"), js = read("results_segm.json");
  REQUIRE(jb.size() == js.size());
  std::vector<CocoDetection> bbox_dets, segm_dets;
  for (size_t i = 0; i < jb.size(); ++i) {
    const auto &b = jb[i], &m = js[i];
    REQUIRE((b["image_id"] == m["image_id"] && b["category_id"] == m["category_id"] && b["score"] == m["score"]));
    CocoDetection d;
    d.image_id = b["image_id"];
    d.category_id = b["category_id"];
    d.score = b["score"];
    d.bbox = BoxXYWH{b["bbox"][0], b["bbox"][1], b["bbox"][2], b["bbox"][3]};
    bbox_dets.push_back(d);
    d.bbox.reset();
    const auto& s = m["segmentation"];
    d.segm = rle_from_string(s["counts"].get<std::string>(), s["size"][0], s["size"][1]);
    segm_dets.push_back(d);  // mask only: area and box from the mask
  }
  const auto rb = coco_evaluate(gt, CocoResults::from_detections(bbox_dets, gt, IouType::Bbox), IouType::Bbox);
  const auto fb = coco_evaluate(gt, CocoResults::load(dir + "results_bbox.json", gt, IouType::Bbox), IouType::Bbox);
  const auto rs = coco_evaluate(gt, CocoResults::from_detections(segm_dets, gt, IouType::Segm), IouType::Segm);
  const auto fs_ = coco_evaluate(gt, CocoResults::load(dir + "results_segm.json", gt, IouType::Segm), IouType::Segm);
  CHECK(rb.stats == fb.stats);
  CHECK(rs.stats == fs_.stats);
  CHECK(rs.per_category_ap == fs_.per_category_ap);
  CHECK(rb.stats[0] > 0.05);  // a real comparison, not two empty evaluations
}

TEST_CASE("cocoeval: a 2-point polygon is rasterized (pycocotools 2.0.x crashes on it)") {
  TmpDir t;
  // The second annotation's only polygon has 4 values; the first is a regular square.
  const auto gt = CocoGroundTruth::load(t.write("gt.json", R"({
    "images": [{"id": 1, "width": 50, "height": 40}], "categories": [{"id": 1}],
    "annotations": [
      {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400, "iscrowd": 0,
       "segmentation": [[10, 10, 10, 30, 30, 30, 30, 10]]},
      {"id": 2, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "area": 25, "iscrowd": 0,
       "segmentation": [[0, 0, 5, 5]]}]})"));
  CocoDetection d;
  d.image_id = 1;
  d.category_id = 1;
  d.score = 0.9;
  const double sq[] = {10, 10, 10, 30, 30, 30, 30, 10};
  d.segm = rle_from_polygon(sq, 4, 40, 50);
  const auto r = coco_evaluate(gt, CocoResults::from_detections({d}, gt, IouType::Segm), IouType::Segm);
  CHECK(r.stats[1] == doctest::Approx(51.0 / 101));  // AP50: recall 0.5 at precision 1
  CHECK(r.stats[8] == doctest::Approx(0.5));              // AR100
}
