// A results json -> CocoResults::load (src/eval/coco_results) against a small fixed ground truth
// (polygons, compressed and uncompressed RLE, a crowd region, an image without objects), for bbox
// and for segm, then the whole evaluation and its reports on what loaded: every mask a results
// file can hold is decoded and matched against every kind of ground-truth mask.
#include "fuzz_util.h"
#include "mabdet/coco_eval.h"

namespace {
const char* kGt = R"json({"images": [{"id": 1, "height": 20, "width": 30, "file_name": "a.png"}, {"id": 5, "height": 16, "width": 16, "file_name": "b.png"}, {"id": 7, "height": 12, "width": 10, "file_name": "c.png"}], "categories": [{"id": 1, "name": "a"}, {"id": 3, "name": "b"}], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 2, 8, 9], "area": 50, "iscrowd": 0, "segmentation": [[2, 2, 10, 2, 10, 11, 2, 11]]}, {"id": 2, "image_id": 1, "category_id": 3, "bbox": [10, 3, 8, 6], "area": 48, "iscrowd": 0, "segmentation": {"size": [20, 30], "counts": "[66>0000000000000]7"}}, {"id": 3, "image_id": 5, "category_id": 1, "bbox": [4, 2, 5, 10], "area": 50, "iscrowd": 1, "segmentation": {"size": [16, 16], "counts": [66, 10, 6, 10, 6, 10, 6, 10, 6, 10, 116]}}, {"id": 4, "image_id": 5, "category_id": 3, "bbox": [0, 0, 6, 6], "area": 30, "iscrowd": 0, "segmentation": [[0, 0, 6, 0, 6, 6], [1, 1, 3, 1, 2, 3]]}]})json";

const mabdet::CocoGroundTruth& ground_truth() {
  static const mabdet::CocoGroundTruth gt = [] {
    const std::string path = mabdet_fuzz::write_scratch(reinterpret_cast<const uint8_t*>(kGt), std::strlen(kGt), ".gt.json");
    mabdet::CocoGroundTruth g = mabdet::CocoGroundTruth::load(path);
    std::remove(path.c_str());
    return g;
  }();
  return gt;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mabdet_fuzz::ScratchCleanup cleanup{".json"};
  const mabdet::CocoGroundTruth& gt = ground_truth();
  const std::string path = mabdet_fuzz::write_scratch(data, size, ".json");
  for (mabdet::IouType iou : {mabdet::IouType::Bbox, mabdet::IouType::Segm}) {
    mabdet_fuzz::expect_clean([&] {
      const mabdet::CocoResults res = mabdet::CocoResults::load(path, gt, iou);
      const mabdet::CocoEvalResult r = mabdet::coco_evaluate(gt, res, iou);
      for (double s : r.stats)
        if (!(s == -1 || (s >= 0 && s <= 1))) {
          std::fprintf(stderr, "fuzz_coco_results: a summary number outside [0, 1]: %g\n", s);
          std::abort();
        }
      (void)mabdet::coco_summary_table(r, gt, iou);
      (void)mabdet::coco_result_json(r);
    });
  }
  return 0;
}
