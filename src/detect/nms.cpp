#include "mabdet/detect/nms.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <vector>

#include "detect/check.h"

namespace mabdet::detect {
namespace {

// Descending score, ties by index: torch's stable sort.
void sort_by_score(const float* scores, std::vector<int32_t>& idx) {
  std::stable_sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) { return scores[a] > scores[b]; });
}

// Greedy NMS over the candidates `order` (already score-sorted); appends the kept ones to keep.
void nms_sorted(const float* boxes, const std::vector<int32_t>& order, double thr, std::vector<int32_t>& keep) {
  const size_t n = order.size();
  std::vector<float> x1(n), y1(n), x2(n), y2(n), area(n);
  for (size_t k = 0; k < n; ++k) {
    const float* b = boxes + 4 * size_t(order[k]);
    x1[k] = b[0], y1[k] = b[1], x2[k] = b[2], y2[k] = b[3];
    area[k] = (x2[k] - x1[k]) * (y2[k] - y1[k]);
  }
  std::vector<char> suppressed(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (suppressed[i]) continue;
    keep.push_back(order[i]);
    for (size_t j = i + 1; j < n; ++j) {
      if (suppressed[j]) continue;
      const float w = std::max(0.f, std::min(x2[i], x2[j]) - std::max(x1[i], x1[j]));
      const float h = std::max(0.f, std::min(y2[i], y2[j]) - std::max(y1[i], y1[j]));
      const float inter = w * h;
      const float iou = inter / (area[i] + area[j] - inter);  // float, as torchvision's kernel
      if (double(iou) > thr) suppressed[j] = 1;
    }
  }
}

void to_index(const std::vector<int32_t>& v, IndexTensor& out) {
  out.reshape(int(v.size()), 1);
  std::copy(v.begin(), v.end(), out.data());
}

void check_args(const char* op, const Tensor& boxes, const Tensor& scores) {
  require_rows(op, "boxes", boxes, 4);
  require_rows(op, "scores", scores, 1);
  MABDET_ASSERT(scores.n() == boxes.n(), op, ": ", boxes.n(), " boxes, ", scores.n(), " scores");
}

}  // namespace

void nms(const Tensor& boxes, const Tensor& scores, double iou_threshold, IndexTensor& keep) {
  check_args("nms", boxes, scores);
  std::vector<int32_t> order(size_t(boxes.n())), kept;
  std::iota(order.begin(), order.end(), 0);
  sort_by_score(scores.data(), order);
  nms_sorted(boxes.data(), order, iou_threshold, kept);
  to_index(kept, keep);
}

void batched_nms(const Tensor& boxes, const Tensor& scores, const IndexTensor& classes, double iou_threshold,
                 IndexTensor& keep) {
  check_args("batched_nms", boxes, scores);
  require_rows("batched_nms", "classes", classes, 1);
  MABDET_ASSERT(classes.n() == boxes.n(), "batched_nms: ", boxes.n(), " boxes, ", classes.n(), " classes");
  std::map<int32_t, std::vector<int32_t>> by_class;  // each list in index order
  for (int i = 0; i < boxes.n(); ++i) by_class[classes[i]].push_back(i);
  std::vector<int32_t> kept;
  for (auto& [cls, order] : by_class) {
    sort_by_score(scores.data(), order);
    nms_sorted(boxes.data(), order, iou_threshold, kept);
  }
  // Ascending index first, then a stable sort: score-descending, ties in index order, as nms().
  std::sort(kept.begin(), kept.end());
  sort_by_score(scores.data(), kept);
  to_index(kept, keep);
}

}  // namespace mabdet::detect
