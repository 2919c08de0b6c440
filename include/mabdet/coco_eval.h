// COCO evaluation (bbox and segm) with pycocotools' COCOeval semantics: the same 12 summary numbers
// and per-category AP, except that a ground-truth annotation with id 0 is counted correctly
// (pycocotools counts its matches as false positives, cocoapi #664; a warning says so).
//
//   auto gt  = CocoGroundTruth::load("instances_val2017.json");
//   auto res = CocoResults::load("results.json", gt, IouType::Segm);   // or from_detections(...)
//   CocoEvalResult r = coco_evaluate(gt, res, IouType::Segm);
//
// Errors in the files (unknown image or category, malformed json, missing fields) throw
// mabdet::Error naming the file and the entry index.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mabdet/byte_arena.h"
#include "mabdet/mask.h"

namespace mabdet {

enum class IouType { Bbox, Segm };
IouType parse_iou_type(const std::string& s);  // "bbox" | "segm"

// Segmentations as COCO json holds them, kept compact until evaluation needs a mask: compressed
// count strings stay strings (in one arena), polygons and uncompressed counts stay numbers.
class SegmStore {
 public:
  enum Kind : uint8_t { kNone, kPolygons, kCounts, kString };
  uint32_t add_none();
  uint32_t add_string(std::string_view counts, uint32_t h, uint32_t w);
  uint32_t add_counts(const std::vector<double>& counts, uint32_t h, uint32_t w);
  // polys: the coordinate lists one after another; lens: the number of values in each.
  uint32_t add_polygons(const std::vector<double>& coords, const std::vector<uint32_t>& lens);
  Kind kind(uint32_t i) const { return Kind(entries_[i].kind); }
  size_t size() const { return entries_.size(); }
  // The mask the way pycocotools' annToRLE makes it: polygons rasterized at the image size and
  // merged, RLEs at their own size. Throws mabdet::Error (without file context) if there is no
  // usable mask.
  Rle to_rle(uint32_t i, uint32_t img_h, uint32_t img_w) const;

 private:
  struct Entry {
    uint8_t kind;
    uint32_t h, w, n;  // n: chars, counts or polygons
    uint64_t off;      // into chars_ or nums_
  };
  std::vector<Entry> entries_;
  ByteArena chars_;
  std::vector<double> nums_;
};

struct CocoCategory {
  int64_t id;
  std::string name;
};

// The parts of an instances json that evaluation needs. Images and categories are sorted by id
// (pycocotools evaluates them in that order); annotations keep file order.
struct CocoGroundTruth {
  struct Ann {
    int64_t id;
    int32_t img, cat;  // indices into images / categories
    double area;
    BoxXYWH bbox;
    bool crowd;
    uint32_t segm;  // into segms
  };
  std::string path;
  std::vector<int64_t> image_ids;
  std::vector<uint32_t> image_h, image_w;
  std::vector<CocoCategory> categories;
  std::vector<Ann> anns;
  SegmStore segms;

  static CocoGroundTruth load(const std::string& path);
  int32_t image_index(int64_t id) const;     // -1 if absent
  int32_t category_index(int64_t id) const;  // -1 if absent

 private:
  std::vector<std::pair<int64_t, int32_t>> image_lookup_, cat_lookup_;  // sorted by id
  friend struct CocoGtBuilder;
};

// One detection in memory (e.g. from the trainer). bbox and/or segm as in a results json.
struct CocoDetection {
  int64_t image_id = 0, category_id = 0;
  double score = 0;
  std::optional<BoxXYWH> bbox;
  std::optional<Rle> segm;
};

// Detections after pycocotools' loadRes: if the first entry has a non-empty bbox every entry's
// area is its box area (and a box without a mask is rasterized as a polygon for segm); otherwise
// every entry needs a segmentation, area is the mask area and a missing bbox is the mask's box.
struct CocoResults {
  struct Det {
    int32_t img, cat;
    double score;
    BoxXYWH bbox;
    double area;
    uint32_t segm;  // into segms; SegmStore::kNone entry when there is none
  };
  std::string path;  // "" for in-memory detections
  std::vector<Det> dets;  // file order
  SegmStore segms;

  // iou decides what must be present: bbox evaluation does not keep masks.
  static CocoResults load(const std::string& path, const CocoGroundTruth& gt, IouType iou);
  static CocoResults from_detections(const std::vector<CocoDetection>& dets,
                                     const CocoGroundTruth& gt, IouType iou);
};

struct CocoEvalResult {
  // AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl; -1 where no ground truth.
  std::array<double, 12> stats{};
  // AP@[.5:.95], all areas, 100 detections, in category id order; -1 without ground truth.
  std::vector<std::pair<int64_t, double>> per_category_ap;
  std::vector<std::string> warnings;
};

// Uses all OpenMP threads for per-image matching and per-category accumulation.
CocoEvalResult coco_evaluate(const CocoGroundTruth& gt, const CocoResults& res, IouType iou);

// pycocotools' 12-line summary (its exact format), then one line per category.
std::string coco_summary_table(const CocoEvalResult& r, const CocoGroundTruth& gt, IouType iou);
// {"stats": [...], "per_category_ap": {"<id>": ap, ...}} with %.17g numbers.
std::string coco_result_json(const CocoEvalResult& r);

}  // namespace mabdet
