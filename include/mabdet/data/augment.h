// Detection augmentation: resize so the short side is S (drawn from a list when training) and the
// long side at most L, optional horizontal flip, per-channel normalization, and the geometry that
// maps ground truth into the resized (and flipped) image.
#pragma once
#include <vector>

#include "mabdet/data/image.h"

namespace mabdet {

class Section;
class Rng;

// Read from the detector cfg's [net] section (keys in docs/data.md).
struct AugmentCfg {
  std::vector<int> min_sizes{800};  // min_size=640,672,...: one drawn per training image
  int max_size = 1333;              // max_size=: cap on the long side
  int test_size = 800;              // test_size=: short side at evaluation
  float flip_prob = 0.5f;           // flip=: probability of a horizontal flip when training
  float mean[3] = {123.675f, 116.28f, 103.53f};  // mean=R,G,B on the 0..255 scale
  float std[3] = {58.395f, 57.12f, 57.375f};     // std=R,G,B
  int size_divisibility = 32;       // size_divisibility=: batch padding multiple
};
AugmentCfg augment_cfg_from(const Section& net);

// Where one image goes: output size, scale factors and flip. Ground truth maps as
// x' = x * sx (then W' - x' when flipped), y' = y * sy.
struct ResizePlan {
  int in_w = 0, in_h = 0, out_w = 0, out_h = 0;
  float sx = 1, sy = 1;
  bool flip = false;
};
// Short side -> `short_side`, long side capped at `max_size` (rounded to nearest pixel).
ResizePlan plan_resize(int w, int h, int short_side, int max_size, bool flip);
// Training: S drawn uniformly from min_sizes, flip with flip_prob; evaluation: test_size, no flip.
ResizePlan plan_augment(int w, int h, const AugmentCfg& cfg, bool train, Rng& rng);

// Box x1,y1,x2,y2 through the plan, clipped to the output image.
void transform_box(const ResizePlan& p, const float in[4], float out[4]);
// Back from the resized (and flipped) image to the original one, clipped: for detections.
void inverse_transform_box(const ResizePlan& p, const float in[4], float out[4]);

// Resizes (bilinear; antialiased when shrinking, as PIL does), flips and normalizes `src` into
// three planes of `dst` (channel c at dst + c * plane, row stride `stride`), RGB order.
// `scratch` is reused between calls to avoid per-image allocation.
void resize_normalize(const Image& src, const ResizePlan& p, const AugmentCfg& cfg, float* dst, size_t plane,
                      int stride, std::vector<float>& scratch);

}  // namespace mabdet
