// COCO results json: a file written from detections loads back with every field equal and scores
// the same as the in-memory detections, in all three forms (boxes, masks, both); bad detections
// are named. tests/scripts/detect_results_pycocotools.sh feeds the same files to pycocotools.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "data_fixture.h"
#include "mabdet/coco_eval.h"
#include "mabdet/detect/results_json.h"
#include "mabdet/error.h"
#include "mabdet/rng.h"

using namespace mabdet;
using namespace mabdet::detect;
using namespace mabdet::testing;
namespace fs = std::filesystem;

namespace {
const std::string kGt = "tests/fixtures/cocoeval/tiny/gt.json";

// Near-misses of every ground-truth object (jittered boxes, its mask or its box as a mask) plus
// false positives, with full-precision doubles so that printing must round-trip.
std::vector<CocoDetection> detections(const CocoGroundTruth& gt) {
  Rng rng(17);
  std::vector<CocoDetection> out;
  for (const CocoGroundTruth::Ann& a : gt.anns) {
    const uint32_t h = gt.image_h[size_t(a.img)], w = gt.image_w[size_t(a.img)];
    CocoDetection d;
    d.image_id = gt.image_ids[size_t(a.img)];
    d.category_id = gt.categories[size_t(a.cat)].id;
    d.score = rng.uniform();
    BoxXYWH b = a.bbox;
    for (double& v : b) v = std::max(0.0, v + rng.uniform(-2, 2));
    d.bbox = b;
    d.segm = rng.randint(2) ? gt.segms.to_rle(a.segm, h, w) : rle_from_bbox(b, h, w);
    out.push_back(d);
  }
  for (int i = 0; i < 20; ++i) {
    const int img = rng.randint(int(gt.image_ids.size()));
    const uint32_t h = gt.image_h[size_t(img)], w = gt.image_w[size_t(img)];
    CocoDetection d;
    d.image_id = gt.image_ids[size_t(img)];
    d.category_id = gt.categories[size_t(rng.randint(int(gt.categories.size())))].id;
    d.score = rng.uniform() * 1e-3;  // small scores print with exponents
    const double x = rng.uniform(0, w * 0.8), y = rng.uniform(0, h * 0.8);
    d.bbox = BoxXYWH{x, y, rng.uniform(1, w - x), rng.uniform(1, h - y)};
    d.segm = rle_from_bbox(*d.bbox, h, w);
    out.push_back(d);
  }
  return out;
}

void check_same(const CocoResults& a, const CocoResults& b, const CocoGroundTruth& gt, IouType iou) {
  REQUIRE(a.dets.size() == b.dets.size());
  for (size_t i = 0; i < a.dets.size(); ++i) {
    CAPTURE(i);
    const CocoResults::Det &x = a.dets[i], &y = b.dets[i];
    CHECK(x.img == y.img);
    CHECK(x.cat == y.cat);
    CHECK(x.score == y.score);  // exact: the printed digits read back to the same double
    CHECK(x.bbox == y.bbox);
    CHECK(x.area == y.area);
    // Box evaluation ignores masks (the file loader keeps entry 0's, from_detections none).
    if (iou == IouType::Bbox) continue;
    REQUIRE(a.segms.kind(x.segm) == b.segms.kind(y.segm));
    if (a.segms.kind(x.segm) != SegmStore::kNone) {
      const uint32_t h = gt.image_h[size_t(x.img)], w = gt.image_w[size_t(x.img)];
      CHECK(a.segms.to_rle(x.segm, h, w) == b.segms.to_rle(y.segm, h, w));
    }
  }
}
}  // namespace

TEST_CASE("results json: files of boxes and/or masks load back equal and evaluate as in memory") {
  const CocoGroundTruth gt = CocoGroundTruth::load(kGt);
  const std::vector<CocoDetection> both = detections(gt);
  std::vector<CocoDetection> boxes = both, masks = both;
  for (CocoDetection& d : boxes) d.segm.reset();
  for (CocoDetection& d : masks) d.bbox.reset();
  // MABDET_RESULTS_OUT keeps the files (with the ground truth) for the pycocotools script.
  TempDir tmp;
  const char* keep = std::getenv("MABDET_RESULTS_OUT");
  const std::string dir = keep ? keep : tmp.path;
  if (keep) fs::copy_file(kGt, dir + "/gt.json", fs::copy_options::overwrite_existing);
  struct Run { const char* file; const std::vector<CocoDetection>* dets; IouType iou; };
  bool escaped = false;
  for (const Run& run : {Run{"results_bbox.json", &boxes, IouType::Bbox},
                         Run{"results_segm.json", &masks, IouType::Segm},
                         Run{"results_both.json", &both, IouType::Segm},
                         Run{"results_both.json", &both, IouType::Bbox}}) {
    const std::string path = dir + "/" + run.file;
    CAPTURE(path);
    write_coco_results(path, *run.dets);
    escaped |= read_file(path).find("\\\\") != std::string::npos;
    const CocoResults file = CocoResults::load(path, gt, run.iou);
    const CocoResults mem = CocoResults::from_detections(*run.dets, gt, run.iou);
    check_same(file, mem, gt, run.iou);
    for (size_t i = 0; i < run.dets->size(); ++i) {  // and against the detections themselves
      const CocoDetection& d = (*run.dets)[i];
      CHECK(gt.image_ids[size_t(file.dets[i].img)] == d.image_id);
      CHECK(gt.categories[size_t(file.dets[i].cat)].id == d.category_id);
      CHECK(file.dets[i].score == d.score);
      if (d.bbox) CHECK(file.dets[i].bbox == *d.bbox);
    }
    const CocoEvalResult rf = coco_evaluate(gt, file, run.iou), rm = coco_evaluate(gt, mem, run.iou);
    CHECK(rf.stats == rm.stats);
    CHECK(rf.per_category_ap == rm.per_category_ap);
    CHECK(rf.stats[0] > 0.1);  // the near-misses score: the comparison is not between two zeros
  }
  CHECK(escaped);  // some mask's counts hold a backslash, which json must escape
}

TEST_CASE("results json: format, number round trip, and bad detections named") {
  CocoDetection d;
  d.image_id = 42;
  d.category_id = 7;
  d.score = 0.47;
  d.bbox = BoxXYWH{1.5, 2, 0.1 + 0.2, 1e-7};
  CHECK(coco_results_json({d}) ==
        "[{\"image_id\": 42, \"category_id\": 7, \"bbox\": [1.5, 2, 0.30000000000000004, 1e-07], "
        "\"score\": 0.47}]\n");
  d.segm = Rle{2, 2, {1, 2, 1}};
  CHECK(coco_results_json({d}).find("\"score\": 0.47, \"segmentation\": {\"size\": [2, 2], \"counts\": \"") !=
        std::string::npos);
  CHECK(coco_results_json({}) == "[]\n");
  CocoDetection no_box = d;
  no_box.bbox.reset();
  CHECK_THROWS_WITH_AS(coco_results_json({d, no_box}),
                       "detection 1: has no bbox but detection 0 has one (readers then require a bbox on every entry)",
                       Error);
  CHECK_NOTHROW(coco_results_json({no_box, d}));  // masks first: a bbox later is allowed
  CocoDetection nothing = no_box;
  nothing.segm.reset();
  CHECK_THROWS_WITH_AS(coco_results_json({nothing}), "detection 0: has neither a bbox nor a segmentation", Error);
  CocoDetection nan = d;
  nan.score = std::nan("");
  CHECK_THROWS_WITH_AS(coco_results_json({d, nan}), "detection 1: score is not a finite number (nan)", Error);
  CocoDetection bad = d;
  bad.segm = Rle{2, 2, {1, 2}};
  CHECK_THROWS_WITH_AS(coco_results_json({bad}), doctest::Contains("detection 0: segmentation "), Error);
  TempDir t;
  CHECK_THROWS_WITH_AS(write_coco_results(t / "r.json", {nan}),
                       (t / "r.json" + ": detection 0: score is not a finite number (nan)").c_str(), Error);
  CHECK_THROWS_WITH_AS(write_coco_results(t / "no/r.json", {d}),
                       (t / "no/r.json" + ": cannot create (No such file or directory)").c_str(), Error);
  CHECK(!fs::exists(t / "r.json"));
}
