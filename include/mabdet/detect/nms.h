// Non-maximum suppression, equal to torchvision.ops.nms / batched_nms: boxes are visited in
// descending score order, ties in index order (a stable sort), and a box is dropped when its IoU
// with a kept box is strictly greater than the threshold. IoU is computed in float exactly as
// torchvision's CPU kernel does, and compared in double as it does, so decisions at the threshold
// agree too.
#pragma once
#include "mabdet/tensor.h"

namespace mabdet::detect {

// keep (K, 1): indices of the kept boxes (N, 4) with scores (N, 1), in descending score order.
void nms(const Tensor& boxes, const Tensor& scores, double iou_threshold, IndexTensor& keep);

// NMS within each class (classes (N, 1), any integers), boxes of different classes never suppress
// each other; keep (K, 1) in descending score order over all classes, ties in index order. Runs one
// NMS per class on the original coordinates (torchvision's "vanilla" path; its coordinate-offset
// path for small inputs gives the same result except where adding the offset rounds coordinates).
void batched_nms(const Tensor& boxes, const Tensor& scores, const IndexTensor& classes, double iou_threshold,
                 IndexTensor& keep);

}  // namespace mabdet::detect
