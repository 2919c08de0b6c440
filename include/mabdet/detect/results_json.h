// Detections as a COCO results json, the file pycocotools' COCO.loadRes and `mabdet cocoeval`
// read: [{"image_id", "category_id", "bbox": [x, y, w, h], "score"[, "segmentation":
// {"size": [h, w], "counts": "<compressed RLE>"}]}, ...]. Numbers are printed with the fewest
// digits that read back to the same double, so a file evaluates exactly as the detections do.
#pragma once
#include <string>
#include <vector>

#include "mabdet/coco_eval.h"

namespace mabdet::detect {

// Fails naming the detection's index for what the readers would reject or misread: no bbox and
// no mask, a bbox on some detections but not on the first (loadRes decides by the first entry),
// a number that is not finite (json has no NaN), or RLE counts that do not cover h*w pixels.
// pycocotools cannot load an empty list (loadRes reads entry 0); mabdet's reader warns on one.
std::string coco_results_json(const std::vector<CocoDetection>& dets);

// Writes it atomically (atomic_write.h); errors name path.
void write_coco_results(const std::string& path, const std::vector<CocoDetection>& dets);

}  // namespace mabdet::detect
