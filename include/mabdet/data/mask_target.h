// Ground-truth masks for the detector, from their compact form (polygons or RLE, original image
// coordinates) through an image's ResizePlan. Per-RoI targets follow Detectron2:
//  - polygons: moved into the box, scaled to M x M and rasterized there (COCO's polygon fill), so
//    thin parts survive whatever the box size;
//  - RLE: the resized, flipped bitmask (nearest-neighbour, as Detectron2 resizes bitmasks) is
//    sampled over the box with RoIAlign (aligned, adaptive sampling) and thresholded at 0.5. The
//    resized bitmask is never built: each sample reads the original mask through the plan.
#pragma once
#include <cstdint>
#include <vector>

#include "mabdet/data/augment.h"
#include "mabdet/data/coco.h"
#include "mabdet/mask.h"

namespace mabdet {

struct Targets;

// Polygon x,y pairs through the plan (not clipped: rasterization clips).
void transform_polygon(const ResizePlan& p, const std::vector<double>& in, std::vector<double>& out);
// The mask at the original image size (h x w). Polygons are rasterized and merged.
Rle gt_mask_rle(const GtMask& m, int h, int w);
// The mask in the augmented image: plan.out_h x plan.out_w bytes (0/1), ROW-major.
std::vector<uint8_t> render_mask(const GtMask& m, const ResizePlan& p);
// M x M target (row-major floats, 0 or 1) for `box` (x1,y1,x2,y2 in augmented image pixels).
void mask_target(const GtMask& m, const ResizePlan& p, const float box[4], int M, float* out);
// Targets for n boxes of one image, box i matched to ground truth gt_index[i] of `t`: out is
// n x M x M. Each RLE is decoded once however many boxes use it.
void mask_targets(const Targets& t, const ResizePlan& p, const float* boxes, const int* gt_index, int n, int M,
                  float* out);

}  // namespace mabdet
