// RoIAlign (Mask R-CNN), forward and input gradient, equal to torchvision.ops.roi_align (which
// Detectron2's ROIAlign calls). Each RoI is cut into pooled_h x pooled_w bins; each bin averages
// grid_h x grid_w bilinear samples taken at sub-bin centres. Samples more than one pixel outside the
// map count as 0; samples in the border band are clamped to the edge.
#pragma once
#include "mabdet/tensor.h"

namespace mabdet::detect {

struct RoIAlignParams {
  int pooled_h = 7, pooled_w = 7;
  float spatial_scale = 1.f;  // feature pixels per image pixel: 1 / stride
  // Samples per bin along each axis; 0 = adaptive, ceil(roi size / pooled size) per RoI.
  int sampling_ratio = 0;
  // true: box corners map to continuous coordinates (x * scale - 0.5), Detectron2's default.
  // false: the original Mask R-CNN mapping (torchvision's default, maskrcnn-benchmark), where RoIs
  // are also widened to at least 1 x 1 feature pixel.
  bool aligned = true;
};

// input (N, C, H, W); rois (R, 5) rows [image index, x1, y1, x2, y2] in image pixels;
// out (R, C, pooled_h, pooled_w). R = 0 gives an empty output.
void roi_align(const Tensor& input, const Tensor& rois, const RoIAlignParams& p, Tensor& out);
// The same with boxes (R, 4) and their image indices (R, 1) apart.
void roi_align(const Tensor& input, const Tensor& boxes, const IndexTensor& image, const RoIAlignParams& p,
               Tensor& out);

// grad_input (N, C, H, W, already shaped like the input) += d(out)/d(input)^T grad_out; grad_out is
// (R, C, pooled_h, pooled_w). RoIs receive no gradient (as in torchvision).
void roi_align_backward(const Tensor& grad_out, const Tensor& rois, const RoIAlignParams& p, Tensor& grad_input);
void roi_align_backward(const Tensor& grad_out, const Tensor& boxes, const IndexTensor& image,
                        const RoIAlignParams& p, Tensor& grad_input);

}  // namespace mabdet::detect
