// The OPENCV=0 drawing backend: masks and boxes by direct pixel writes. Tags are omitted: text
// would need a font, and a build without OpenCV is for machines that lack it, not for pictures.
#ifndef MABDET_OPENCV
#include <algorithm>
#include <cmath>

#include "detect/draw_backend.h"
#include "mabdet/detect/draw.h"

namespace mabdet::detect::backend {
namespace {

void put(Image& img, int x, int y, Rgb c) {
  uint8_t* p = img.row(y) + 3 * x;
  p[0] = c[0], p[1] = c[1], p[2] = c[2];
}

// Fills the inclusive rectangle, clipped to the image.
void fill(Image& img, int x1, int y1, int x2, int y2, Rgb c) {
  x1 = std::max(x1, 0), y1 = std::max(y1, 0);
  x2 = std::min(x2, img.w - 1), y2 = std::min(y2, img.h - 1);
  for (int y = y1; y <= y2; ++y)
    for (int x = x1; x <= x2; ++x) put(img, x, y, c);
}

}  // namespace

void mask(Image& img, const std::vector<uint8_t>& mask, Rgb c) {
  const int w = img.w, h = img.h;
  auto in = [&](int x, int y) { return x >= 0 && y >= 0 && x < w && y < h && mask[size_t(y) * w + x]; };
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      if (!in(x, y)) continue;
      // A pixel with a 4-neighbour outside the mask (or the image) is on the contour.
      if (!in(x - 1, y) || !in(x + 1, y) || !in(x, y - 1) || !in(x, y + 1)) {
        put(img, x, y, c);
        continue;
      }
      uint8_t* p = img.row(y) + 3 * x;
      for (int k = 0; k < 3; ++k) p[k] = uint8_t(std::lround(p[k] + (c[k] - p[k]) * double(kMaskAlpha)));
    }
}

void box(Image& img, PixelBox b, int t, Rgb c) {
  fill(img, b.x1, b.y1, b.x2, std::min(b.y1 + t - 1, b.y2), c);  // top
  fill(img, b.x1, std::max(b.y2 - t + 1, b.y1), b.x2, b.y2, c);  // bottom
  fill(img, b.x1, b.y1, std::min(b.x1 + t - 1, b.x2), b.y2, c);  // left
  fill(img, std::max(b.x2 - t + 1, b.x1), b.y1, b.x2, b.y2, c);  // right
}

void tag(Image&, PixelBox, const std::string&, Rgb) {}

}  // namespace mabdet::detect::backend
#endif
