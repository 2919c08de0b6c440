// Matcher: each prediction (anchor or proposal) gets the ground-truth box it overlaps most and a
// label from IoU thresholds, as Detectron2's Matcher (and torchvision's, which is the same rule with
// other codes for the labels).
#pragma once
#include <string>
#include <vector>

#include "mabdet/tensor.h"

namespace mabdet::detect {

constexpr int kMatchForeground = 1, kMatchBackground = 0, kMatchIgnore = -1;

struct Matcher {
  // Ascending thresholds split IoU into intervals [-inf, t0), [t0, t1), ..., [tk, inf); labels
  // (one more than thresholds) says what each interval means: 1 foreground, 0 background, -1 ignore.
  // RPN: {0.3, 0.7} / {0, -1, 1}; box head: {0.5} / {0, 1}.
  std::vector<float> thresholds{0.3f, 0.7f};
  std::vector<int> labels{kMatchBackground, kMatchIgnore, kMatchForeground};
  // A prediction that is the best (ties included) for some ground truth becomes foreground whatever
  // its IoU. Its match stays its own best ground truth, which need not be that one (as in both
  // Detectron2 and torchvision). A ground truth that overlaps no prediction at all thus makes every
  // prediction it has IoU 0 with foreground, as in both; mmdetection's min_pos_iou guards this,
  // these two do not.
  bool allow_low_quality_matches = false;

  // Throws mabdet::Error naming `where` when thresholds are not ascending or labels do not fit.
  void validate(const std::string& where) const;
  // iou: (G, P), ground truth in rows (box_iou(gt, predictions)). matches (P, 1): index of the
  // ground truth with the highest IoU (the first on ties); labels (P, 1): 1, 0 or -1. With no ground
  // truth (G = 0) every prediction is matched to 0 and labelled labels[0] (background).
  void match(const Tensor& iou, IndexTensor& matches, IndexTensor& match_labels) const;
};

}  // namespace mabdet::detect
