// The detector as a whole: a cfg network with [rpn], [box_predictor] and optionally
// [mask_predictor] sections (docs/detector.md), its augmentation keys, and what turns the
// network's outputs into detections in the original images' pixels.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mabdet/coco_eval.h"
#include "mabdet/context.h"
#include "mabdet/data/augment.h"
#include "mabdet/data/batch.h"
#include "mabdet/mask.h"
#include "mabdet/network.h"

namespace mabdet {

struct Detection {
  float box[4];             // x1,y1,x2,y2 in the original image's pixels
  float score = 0;
  int label = 0;            // 0..classes-1
  bool has_mask = false;
  Rle mask;                 // at the original image size (COCO's column-major runs)
  std::vector<uint8_t> bitmap;  // the same mask row-major (h * w, 0/1), when asked for
};

class Detector {
 public:
  // Reads the cfg (the [net] augmentation keys first, then the network); fails naming the file
  // when the cfg has no [rpn] and [box_predictor].
  static Detector from_file(const std::string& cfg_path);
  Network& net() { return *net_; }
  const AugmentCfg& augment() const { return aug_; }
  const std::string& cfg_path() const { return path_; }
  int classes() const { return classes_; }
  bool has_masks() const { return mask_layer_ >= 0; }
  // [net] mask_paste=detectron2 (default: paste_mask) | torchvision (paste_mask_torchvision).
  bool torchvision_paste() const { return tv_paste_; }
  // Runs inference on an assembled batch; out[i] holds image i's detections, best first.
  // bitmaps: also fill Detection::bitmap (for drawing).
  void detect(Context& ctx, const Batch& b, std::vector<std::vector<Detection>>& out, bool bitmaps = false);

 private:
  std::string path_;
  AugmentCfg aug_;
  std::unique_ptr<Network> net_;
  int box_layer_ = -1, mask_layer_ = -1, classes_ = 0;
  bool tv_paste_ = false;
};

// Pastes an M x M mask of probabilities into an h x w image (row-major 0/1 out) over `box`
// (original image pixels): each pixel centre inside the box is sampled bilinearly from the mask
// (outside it counts as 0), as Detectron2's paste_masks_in_image, and kept where >= threshold.
void paste_mask(const float* mask, int M, const float box[4], int h, int w, float threshold, uint8_t* out);

// torchvision's paste_masks_in_image, for parity with its models: the mask padded by one zero
// pixel and its box grown to match, the box truncated to whole pixels (+1 wide), the mask
// bilinearly resized to that size (align_corners=False) and kept where > threshold. Coarser than
// paste_mask: the truncation shifts masks by up to a pixel.
void paste_mask_torchvision(const float* mask, int M, const float box[4], int h, int w, float threshold, uint8_t* out);

// Detections of a whole split in COCO form (category ids from the dataset).
struct CocoDataset;
struct EvalReport {
  std::vector<CocoDetection> dets;
  CocoEvalResult bbox, segm;
  bool has_segm = false;
  double seconds = 0;
  std::string table(const CocoGroundTruth& gt) const;  // bbox (and segm) tables with per-class AP
};
// Runs the detector over `ds` (evaluation order, batches of `batch` images, `threads` loader
// threads) and evaluates against `gt`, the same split's json.
EvalReport evaluate_detector(Detector& det, Context& ctx, const CocoDataset& ds, const CocoGroundTruth& gt, int batch,
                             int threads);

}  // namespace mabdet
