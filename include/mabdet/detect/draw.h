// The pictures `mabdet detect` writes: each detection's translucent mask with its contour, its box,
// and a "label 0.87" tag on a filled background, coloured by class from a fixed palette.
// OPENCV=1 (the default) draws with OpenCV; OPENCV=0 draws masks and boxes with a small rasterizer
// of its own and omits the tags, since text needs a font that only OpenCV brings.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "mabdet/data/image.h"

namespace mabdet::detect {

struct DrawItem {
  float box[4];                                // x1, y1, x2, y2 in the image's pixels
  std::string label;                           // class name
  float score = 0;
  const std::vector<uint8_t>* mask = nullptr;  // optional: img.h * img.w bytes, 0/1, row-major
  int color = 0;                               // palette index (the class)
};

// Mask opacity: the image stays readable under a mask.
constexpr float kMaskAlpha = 0.45f;

// RGB of palette entry i (any int, negative included): distinct hues for neighbouring indices.
std::array<uint8_t, 3> palette_color(int i);

// A copy of img with all masks, then all boxes, then all tags (later items over earlier ones, tags
// over every box). Boxes are clipped to the image; a box with a non-finite coordinate or lying
// wholly outside gets no outline or tag. Fails when a mask does not have img.h * img.w bytes.
Image draw_detections(const Image& img, const std::vector<DrawItem>& items);

// Writes the drawn image, PNG or JPEG (quality 95) by the extension (any case), atomically
// (atomic_write.h); fails naming path for another extension or a write error.
void write_detections_image(const std::string& path, const Image& img, const std::vector<DrawItem>& items);

}  // namespace mabdet::detect
