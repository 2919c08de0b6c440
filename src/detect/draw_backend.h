// What draw.cpp asks of a drawing backend: draw_cv.cpp (OPENCV=1) or draw_raster.cpp (OPENCV=0),
// exactly one of which is compiled into a build. Internal header.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "mabdet/data/image.h"

namespace mabdet::detect::backend {

using Rgb = std::array<uint8_t, 3>;

// Inclusive pixel corners, x1 <= x2 and y1 <= y2, possibly partly outside the image (backends
// clip) but never further out than a few dozen pixels (draw.cpp clamps).
struct PixelBox {
  int x1, y1, x2, y2;
};

// Blends c into the mask's pixels (kMaskAlpha) and paints its contour in c; mask is row-major,
// img.h * img.w bytes.
void mask(Image& img, const std::vector<uint8_t>& mask, Rgb c);
void box(Image& img, PixelBox b, int thickness, Rgb c);
// The text on a filled background of colour c at the box's top-left corner, kept inside the image.
void tag(Image& img, PixelBox b, const std::string& text, Rgb c);

}  // namespace mabdet::detect::backend
