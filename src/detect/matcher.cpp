#include "mabdet/detect/matcher.h"

#include <algorithm>

#include "detect/check.h"

namespace mabdet::detect {

void Matcher::validate(const std::string& where) const {
  if (thresholds.empty()) fail(where, ": matcher thresholds: need at least one");
  for (size_t i = 1; i < thresholds.size(); ++i)
    if (!(thresholds[i - 1] <= thresholds[i]))
      fail(where, ": matcher thresholds: must be ascending, got ", thresholds[i - 1], " before ", thresholds[i]);
  if (labels.size() != thresholds.size() + 1)
    fail(where, ": matcher labels: need ", thresholds.size() + 1, " (one more than thresholds), got ", labels.size());
  for (int l : labels)
    if (l != kMatchForeground && l != kMatchBackground && l != kMatchIgnore)
      fail(where, ": matcher labels: each must be 1, 0 or -1, got ", l);
}

void Matcher::match(const Tensor& iou, IndexTensor& matches, IndexTensor& match_labels) const {
  require_host("Matcher::match", iou);
  MABDET_ASSERT(iou.h() == 1 && iou.w() == 1, "Matcher::match: iou must be (G, P), got ", iou.shape().str());
  MABDET_ASSERT(labels.size() == thresholds.size() + 1, "Matcher: unvalidated thresholds/labels");
  const int g = iou.n(), p = iou.c();
  matches.reshape(p, 1);
  match_labels.reshape(p, 1);
  if (p == 0) return;
  if (g == 0) {
    matches.fill(0);
    match_labels.fill(labels[0]);
    return;
  }
  const float* m = iou.data();
  for (int j = 0; j < p; ++j) {
    int best = 0;
    for (int i = 1; i < g; ++i)
      if (m[size_t(i) * p + j] > m[size_t(best) * p + j]) best = i;  // first of equals, like torch.max
    const float v = m[size_t(best) * p + j];
    size_t k = 0;  // interval [t_{k-1}, t_k) holding v
    while (k < thresholds.size() && v >= thresholds[k]) ++k;
    matches[j] = best;
    match_labels[j] = labels[k];
  }
  if (!allow_low_quality_matches) return;
  for (int i = 0; i < g; ++i) {
    const float* row = m + size_t(i) * p;
    float top = row[0];
    for (int j = 1; j < p; ++j) top = std::max(top, row[j]);
    for (int j = 0; j < p; ++j)
      if (row[j] == top) match_labels[j] = kMatchForeground;
  }
}

}  // namespace mabdet::detect
