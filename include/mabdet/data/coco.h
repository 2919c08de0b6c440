// COCO instances json -> an in-memory dataset: images, their annotations, and the category map.
// Category ids map to contiguous labels 0..K-1 in increasing id order (the detector's background is
// K, internal to it); crowd regions are kept apart from regular targets. Masks stay in their json
// form (polygons or RLE) until the detector asks for per-RoI targets (see data/mask_target.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mabdet {

// A ground-truth mask in its compact json form, in the original image's pixel coordinates.
struct GtMask {
  enum class Kind : uint8_t { None, Polygons, Rle };
  Kind kind = Kind::None;
  std::vector<std::vector<double>> polygons;  // Polygons: each x0,y0,x1,y1,... (>= 3 points)
  int h = 0, w = 0;                           // Rle: mask size ("size": [h, w])
  std::vector<uint32_t> counts;               // Rle given as a list of run lengths (column-major)
  std::string compressed;                     // Rle given as a COCO compressed string
  bool empty() const { return kind == Kind::None; }
};

struct Annotation {
  int64_t id = 0;
  int label = 0;        // contiguous 0..K-1
  float box[4] = {};    // x1, y1, x2, y2 in original image pixels (json x, y, x+w, y+h)
  float area = 0;       // json "area"
  bool crowd = false;   // iscrowd=1: ignored by training targets, kept for evaluation
  GtMask mask;
};

struct ImageRecord {
  int64_t id = 0;
  std::string file;     // full path: image folder + json file_name
  int width = 0, height = 0;
  std::vector<Annotation> anns;  // regular and crowd together; Annotation::crowd tells them apart
};

struct CocoLoadOptions {
  bool filter_empty = true;  // drop images without (non-crowd) annotations, as Detectron2 trains
  bool masks = true;         // keep segmentations (false: boxes only, less memory)
  int max_messages = 10;     // per-case messages kept before only counting
};

// What the loader skipped, with messages naming the file and the annotation id.
struct CocoLoadReport {
  int empty_box = 0;         // w or h <= 0 (or non-finite)
  int bad_polygon = 0;       // annotation whose polygons all have < 3 points (or an odd count)
  int unknown_image = 0;     // image_id not among "images"
  int empty_images = 0;      // images dropped by filter_empty
  std::vector<std::string> messages;
  std::string summary(const std::string& json) const;  // one line; "" when nothing was skipped
};

struct CocoDataset {
  std::string json_path, image_dir;
  std::vector<ImageRecord> images;          // json order
  std::vector<int64_t> category_ids;        // label -> COCO category id
  std::vector<std::string> category_names;  // label -> name
  CocoLoadReport report;

  int num_classes() const { return int(category_ids.size()); }
  int label_of(int64_t category_id) const;  // -1 when unknown
  int64_t category_id(int label) const;     // fails on a label outside 0..K-1
};

// Fails (mabdet::Error naming the file) on corrupt json, missing fields, an annotation whose
// category is unknown and duplicate ids; skips and counts the recoverable cases (see docs/data.md).
CocoDataset load_coco(const std::string& json_path, const std::string& image_dir, const CocoLoadOptions& opt = {});
CocoDataset load_coco_text(const std::string& json_text, const std::string& name, const std::string& image_dir,
                           const CocoLoadOptions& opt = {});

}  // namespace mabdet
