// Boxes: a Tensor of shape (N, 4) (h = w = 1), rows [x1, y1, x2, y2] in pixels. Width is x2 - x1
// (no "+1": Detectron2 and torchvision both dropped it). These ops run on the host; a CUDA tensor is
// an error, not a silent copy. Outputs are reshaped, so a buffer reused across batches keeps its
// allocation.
#pragma once
#include "mabdet/tensor.h"

namespace mabdet::detect {

// area (N, 1) = (x2 - x1) * (y2 - y1); negative for inverted boxes, as torchvision's box_area.
void box_area(const Tensor& boxes, Tensor& area);

// iou (N, M): IoU of a[i] and b[j]. A pair that does not intersect gets 0 even when both boxes are
// empty (Detectron2's pairwise_iou; torchvision's box_iou returns 0/0 = NaN there). Elsewhere the
// value is bit-identical to torchvision's: inter / (area_a + area_b - inter) in float.
void box_iou(const Tensor& a, const Tensor& b, Tensor& iou);

// Clamps x to [0, width] and y to [0, height] in place (torchvision clip_boxes_to_image,
// Detectron2 Boxes.clip).
void clip_boxes(Tensor& boxes, int height, int width);

// keep (K, 1): ascending indices of boxes with width >= min_size and height >= min_size
// (torchvision remove_small_boxes; Detectron2's nonempty() uses > instead).
void remove_small_boxes(const Tensor& boxes, float min_size, IndexTensor& keep);

}  // namespace mabdet::detect
