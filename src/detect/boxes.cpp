#include "mabdet/detect/boxes.h"

#include <algorithm>

#include "detect/check.h"

namespace mabdet::detect {

void box_area(const Tensor& boxes, Tensor& area) {
  require_rows("box_area", "boxes", boxes, 4);
  area.reshape(boxes.n(), 1);
  for (int i = 0; i < boxes.n(); ++i) {
    const float* b = boxes.data() + 4 * size_t(i);
    area[i] = (b[2] - b[0]) * (b[3] - b[1]);
  }
}

void box_iou(const Tensor& a, const Tensor& b, Tensor& iou) {
  require_rows("box_iou", "a", a, 4);
  require_rows("box_iou", "b", b, 4);
  const int n = a.n(), m = b.n();
  iou.reshape(n, m);
  Tensor area_b;
  box_area(b, area_b);
  // Rows are independent; an RPN's IoU matrix (ground truth x ~200k anchors) is worth the threads.
#pragma omp parallel for schedule(static) if (size_t(n) * m > 65536)
  for (int i = 0; i < n; ++i) {
    const float* p = a.data() + 4 * size_t(i);
    const float area_a = (p[2] - p[0]) * (p[3] - p[1]);
    float* row = iou.data() + size_t(i) * m;
    for (int j = 0; j < m; ++j) {
      const float* q = b.data() + 4 * size_t(j);
      const float w = std::max(0.f, std::min(p[2], q[2]) - std::max(p[0], q[0]));
      const float h = std::max(0.f, std::min(p[3], q[3]) - std::max(p[1], q[1]));
      const float inter = w * h;
      row[j] = inter > 0.f ? inter / (area_a + area_b[j] - inter) : 0.f;
    }
  }
}

void clip_boxes(Tensor& boxes, int height, int width) {
  require_rows("clip_boxes", "boxes", boxes, 4);
  const float lim[4] = {float(width), float(height), float(width), float(height)};
  for (size_t i = 0; i < boxes.size(); ++i) boxes[i] = std::min(std::max(boxes[i], 0.f), lim[i % 4]);
}

void remove_small_boxes(const Tensor& boxes, float min_size, IndexTensor& keep) {
  require_rows("remove_small_boxes", "boxes", boxes, 4);
  int k = 0;
  keep.reshape(boxes.n(), 1);
  for (int i = 0; i < boxes.n(); ++i) {
    const float* b = boxes.data() + 4 * size_t(i);
    if (b[2] - b[0] >= min_size && b[3] - b[1] >= min_size) keep[k++] = i;
  }
  keep.reshape(k, 1);
}

}  // namespace mabdet::detect
