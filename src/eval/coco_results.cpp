// Loads detection results the way pycocotools' COCO.loadRes does (see CocoResults in
// coco_eval.h), but names the file and entry on every problem instead of crashing or, for
// unknown categories, silently ignoring the entry.
#include <algorithm>
#include <atomic>
#include <mutex>

#include "eval/json_array_chunks.h"
#include "eval/json_util.h"

namespace mabdet {

namespace od = simdjson::ondemand;

IouType parse_iou_type(const std::string& s) {
  if (s == "bbox") return IouType::Bbox;
  if (s == "segm") return IouType::Segm;
  fail("unknown IoU type '", s, "' (expected bbox or segm)");
}

namespace {

// The first entry decides, as in loadRes: a non-empty bbox means box mode.
enum class Mode { Unknown, Box, Mask };

struct Entry {
  int64_t img = 0, cat = 0;
  double score = 0;
  BoxXYWH box{0, 0, 0, 0};
  size_t nbox = 0;
  bool has_img = false, has_cat = false, has_score = false, has_box = false;
  uint32_t segm = UINT32_MAX;
};

// Turns one entry into a Det (without the mask area, which a parallel pass fills in).
void add_entry(const Entry& e, Mode& mode, const CocoGroundTruth& gt, CocoResults& res) {
  if (!e.has_img) fail("missing field 'image_id'");
  if (!e.has_cat) fail("missing field 'category_id'");
  if (!e.has_score) fail("missing field 'score'");
  if (mode == Mode::Unknown) mode = e.has_box && e.nbox ? Mode::Box : Mode::Mask;
  CocoResults::Det d{};
  d.img = gt.image_index(e.img);
  if (d.img < 0) fail("image_id ", e.img, " is not an image of the ground truth ", gt.path);
  d.cat = gt.category_index(e.cat);
  if (d.cat < 0) fail("category_id ", e.cat, " is not a category of the ground truth ", gt.path);
  d.score = e.score;
  if (mode == Mode::Box) {
    if (!e.has_box) fail("missing field 'bbox' (the first result has one, so every result needs one)");
    if (e.nbox != 4) fail("field 'bbox' must hold 4 numbers");
    d.bbox = e.box;
    d.area = e.box[2] * e.box[3];
  } else {
    if (e.segm == UINT32_MAX)
      fail("missing field 'segmentation' (the first result has no bbox, so every result needs a mask)");
    if (e.has_box && e.nbox != 4 && e.nbox != 0) fail("field 'bbox' must hold 4 numbers");
    d.bbox = e.box;
    d.area = e.has_box && e.nbox == 4 ? -1 : -2;  // filled in by finish(): -2 also needs the box
  }
  d.segm = e.segm == UINT32_MAX ? res.segms.add_none() : e.segm;
  res.dets.push_back(d);
}

// Mask mode: area (and a missing box) come from the mask, decoded here on all threads.
void finish(const CocoGroundTruth& gt, CocoResults& res, const std::string& where) {
  std::atomic<bool> failed{false};
  std::string msg;
  std::mutex mu;
  const int64_t n = int64_t(res.dets.size());
#pragma omp parallel for schedule(dynamic, 256)
  for (int64_t i = 0; i < n; ++i) {
    CocoResults::Det& d = res.dets[size_t(i)];
    if (d.area >= 0 || failed.load(std::memory_order_relaxed)) continue;
    try {
      const Rle r = res.segms.to_rle(d.segm, gt.image_h[size_t(d.img)], gt.image_w[size_t(d.img)]);
      if (d.area == -2) d.bbox = rle_to_bbox(r);
      d.area = double(rle_area(r));
    } catch (const Error& e) {
      std::lock_guard<std::mutex> lock(mu);
      if (!failed.exchange(true)) msg = cat(where, " entry ", i, ": segmentation ", e.what());
    }
  }
  if (failed) fail(msg);
}

}  // namespace

CocoResults CocoResults::load(const std::string& path, const CocoGroundTruth& gt, IouType iou) {
  CocoResults res;
  res.path = path;
  JsonArrayChunks chunks(path);  // throws, naming the file, if it is not a json list
  // About 100 bytes per box result: reserving avoids regrowing (and re-faulting) the vector.
  res.dets.reserve(std::min<size_t>(chunks.file_size() / 96 + 16, size_t(1) << 26));
  Mode mode = Mode::Unknown;
  size_t idx = 0;
  od::parser parser;
  json::Scratch s;
  const char* piece;
  size_t len, cap;
  try {
    while (chunks.next(piece, len, cap)) {
      od::document doc = parser.iterate(piece, len, cap);
      for (auto el : doc.get_array()) {
        Entry e;
        od::object obj;
        if (el.get_object().get(obj)) fail("is not a json object");
        for (auto f : obj) {
          od::raw_json_string k = f.key();
          if (k == "image_id") { e.img = json::get_id(f.value(), "image_id"); e.has_img = true; }
          else if (k == "category_id") { e.cat = json::get_id(f.value(), "category_id"); e.has_cat = true; }
          else if (k == "score") { e.score = json::get_num(f.value(), "score"); e.has_score = true; }
          else if (k == "bbox") { e.nbox = json::get_box(f.value(), e.box); e.has_box = true; }
          else if (k == "segmentation") {
            // Box-mode bbox evaluation never looks at masks: skip them unparsed.
            if (iou == IouType::Segm || mode != Mode::Box) e.segm = json::get_segm(f.value(), res.segms, s);
          }
        }
        add_entry(e, mode, gt, res);
        ++idx;
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    fail(path, ": entry ", idx, ": malformed json (", e.what(), ")");
  } catch (const JsonElementError& e) {
    fail(path, ": entry ", idx, ": ", e.what());
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.rfind(path + ":", 0) == 0) throw;  // already names the file (from the chunk reader)
    fail(path, ": entry ", idx, ": ", msg);
  }
  if (mode == Mode::Mask) finish(gt, res, path);
  return res;
}

CocoResults CocoResults::from_detections(const std::vector<CocoDetection>& dets,
                                         const CocoGroundTruth& gt, IouType iou) {
  CocoResults res;
  Mode mode = Mode::Unknown;
  for (size_t i = 0; i < dets.size(); ++i) {
    const CocoDetection& d = dets[i];
    Entry e;
    e.img = d.image_id; e.has_img = true;
    e.cat = d.category_id; e.has_cat = true;
    e.score = d.score; e.has_score = true;
    if (d.bbox) { e.box = *d.bbox; e.nbox = 4; e.has_box = true; }
    if (d.segm && (iou == IouType::Segm || !d.bbox))
      e.segm = res.segms.add_string(rle_to_string(*d.segm), d.segm->h, d.segm->w);
    try {
      add_entry(e, mode, gt, res);
    } catch (const Error& err) {
      fail("detection ", i, ": ", err.what());
    }
  }
  if (mode == Mode::Mask) finish(gt, res, "detection");
  return res;
}

}  // namespace mabdet
