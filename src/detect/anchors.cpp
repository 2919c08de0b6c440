#include "mabdet/detect/anchors.h"

#include <cmath>

#include "detect/check.h"

namespace mabdet::detect {

void cell_anchors(const std::vector<double>& sizes, const std::vector<double>& aspect_ratios, AnchorStyle style,
                  Tensor& cell) {
  const int ns = int(sizes.size()), nr = int(aspect_ratios.size());
  cell.reshape(ns * nr, 4);
  auto put = [&](int row, float w, float h) {
    float* c = cell.data() + 4 * size_t(row);
    c[0] = -w / 2, c[1] = -h / 2, c[2] = w / 2, c[3] = h / 2;
  };
  if (style == AnchorStyle::Detectron2) {
    // Python floats (double); halving commutes with the final rounding to float.
    for (int s = 0; s < ns; ++s)
      for (int r = 0; r < nr; ++r) {
        const double area = sizes[s] * sizes[s];
        const double w = std::sqrt(area / aspect_ratios[r]), h = aspect_ratios[r] * w;
        put(s * nr + r, float(w), float(h));
      }
    return;
  }
  for (int r = 0; r < nr; ++r) {
    const float hr = std::sqrt(float(aspect_ratios[r])), wr = 1.f / hr;
    for (int s = 0; s < ns; ++s) {
      put(r * ns + s, wr * float(sizes[s]), hr * float(sizes[s]));
      float* c = cell.data() + 4 * size_t(r * ns + s);
      for (int k = 0; k < 4; ++k) c[k] = std::nearbyint(c[k]);  // torch.round: half to even
    }
  }
}

void grid_anchors(const Tensor& cell, int height, int width, float stride, float offset, Tensor& anchors) {
  require_rows("grid_anchors", "cell", cell, 4);
  MABDET_ASSERT(height >= 0 && width >= 0, "grid_anchors: ", height, "x", width);
  const int a = cell.n();
  anchors.reshape(height * width * a, 4);
  for (int y = 0; y < height; ++y) {
    // torch.arange(offset * stride, size * stride, stride) in float32: start + i * step, rounded once
    const float sy = float(double(offset) * stride + double(y) * stride);
    for (int x = 0; x < width; ++x) {
      const float sx = float(double(offset) * stride + double(x) * stride);
      const float shift[4] = {sx, sy, sx, sy};
      float* o = anchors.data() + (size_t(y) * width + x) * a * 4;
      for (int k = 0; k < 4 * a; ++k) o[k] = shift[k % 4] + cell[k];
    }
  }
}

int AnchorGenerator::anchors_per_cell(int level) const {
  const auto& s = sizes.size() == 1 ? sizes[0] : sizes.at(level);
  const auto& r = aspect_ratios.size() == 1 ? aspect_ratios[0] : aspect_ratios.at(level);
  return int(s.size() * r.size());
}

void AnchorGenerator::validate(const std::string& where) const {
  const size_t n = strides.size();
  if (n == 0) fail(where, ": anchor strides: need one per level, got none");
  for (float s : strides)
    if (!(s > 0)) fail(where, ": anchor strides: must be positive, got ", s);
  auto check = [&](const char* field, const std::vector<std::vector<double>>& v) {
    if (v.size() != 1 && v.size() != n)
      fail(where, ": ", field, ": need 1 list or one per level (", n, "), got ", v.size());
    for (const auto& l : v) {
      if (l.empty()) fail(where, ": ", field, ": a level has no values");
      for (double x : l)
        if (!(x > 0)) fail(where, ": ", field, ": must be positive, got ", x);
    }
  };
  check("anchor sizes", sizes);
  check("aspect ratios", aspect_ratios);
  if (!(offset >= 0 && offset < 1)) fail(where, ": anchor offset: must be in [0, 1), got ", offset);
}

void AnchorGenerator::generate(int level, int height, int width, Tensor& anchors) const {
  MABDET_ASSERT(level >= 0 && level < levels(), "AnchorGenerator: level ", level, " of ", levels());
  Tensor cell;
  cell_anchors(sizes.size() == 1 ? sizes[0] : sizes[level],
               aspect_ratios.size() == 1 ? aspect_ratios[0] : aspect_ratios[level], style, cell);
  grid_anchors(cell, height, width, strides[level], offset, anchors);
}

}  // namespace mabdet::detect
