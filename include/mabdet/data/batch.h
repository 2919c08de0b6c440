// Batches for the detector: images resized, flipped and normalized into one zero-padded NCHW
// tensor (H and W multiples of size_divisibility), plus per-image geometry and ground truth.
// Everything is in the resized image's pixel coordinates: boxes x1,y1,x2,y2, no +1 in widths.
#pragma once
#include <cstdint>
#include <vector>

#include "mabdet/data/augment.h"
#include "mabdet/data/coco.h"
#include "mabdet/tensor.h"

namespace mabdet {

// One image's ground truth after augmentation.
struct Targets {
  std::vector<float> boxes;        // n x 4: x1,y1,x2,y2 (resized image pixels)
  std::vector<int> labels;         // n: 0..K-1
  std::vector<int64_t> ann_ids;    // n: json annotation ids
  std::vector<GtMask> masks;       // n: compact, ORIGINAL image coords; map with ImageMeta::plan
  std::vector<float> crowd_boxes;  // crowd regions, kept apart: ignored by training targets
  std::vector<int> crowd_labels;
  std::vector<GtMask> crowd_masks;
  int size() const { return int(labels.size()); }
};

struct ImageMeta {
  int64_t image_id = 0;    // json image id
  int64_t index = 0;       // position in CocoDataset::images
  ResizePlan plan;         // original size, resized size (plan.out_w/out_h, unpadded), scale, flip
};

struct Batch {
  Tensor images;                    // N x 3 x Hpad x Wpad; zero beyond each image's plan.out_w/h
  std::vector<ImageMeta> meta;      // N
  std::vector<Targets> targets;     // N
  int64_t epoch = 0;
  int64_t number = 0;               // batch number since the loader started (0, 1, ...)
  int size() const { return int(meta.size()); }
};

// One image's annotations through its plan: boxes mapped and clipped (those left empty dropped),
// crowds apart, masks copied in their compact form when keep_masks.
Targets build_targets(const ImageRecord& rec, const ResizePlan& plan, bool keep_masks);
// Decodes, resizes, flips and normalizes the images at `indices` with their plans (the loader
// draws those) into `out`, reusing its buffers. Each image must decode to the json's size.
void assemble_batch(const CocoDataset& ds, const std::vector<int64_t>& indices, const std::vector<ResizePlan>& plans,
                    const AugmentCfg& cfg, bool keep_masks, Batch& out, std::vector<float>& scratch);

// A one-image evaluation batch (test_size, no flip, no ground truth), for `mabdet detect`.
void image_batch(const Image& img, const AugmentCfg& cfg, Batch& out, std::vector<float>& scratch);

}  // namespace mabdet
