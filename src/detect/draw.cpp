// The backend-independent part of drawing: palette, box rounding and clipping, draw order, and
// writing the file.
#include "mabdet/detect/draw.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "detect/draw_backend.h"
#include "mabdet/atomic_write.h"
#include "mabdet/error.h"

namespace mabdet::detect {
namespace {

// Boxes far outside the image are pulled in to this margin, so that rounding cannot overflow an
// int and a backend's clipping never meets huge coordinates; the visible part is unchanged.
constexpr float kMargin = 64;

std::array<uint8_t, 3> hsv(double h, double s, double v) {
  const double f = h * 6 - std::floor(h * 6);
  const double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  double r, g, b;
  switch (int(h * 6) % 6) {
    case 0: r = v, g = t, b = p; break;
    case 1: r = q, g = v, b = p; break;
    case 2: r = p, g = v, b = t; break;
    case 3: r = p, g = q, b = v; break;
    case 4: r = t, g = p, b = v; break;
    default: r = v, g = p, b = q; break;
  }
  auto u8 = [](double x) { return uint8_t(std::lround(x * 255)); };
  return {u8(r), u8(g), u8(b)};
}

// False when the box has a non-finite coordinate or misses the image entirely.
bool pixel_box(const DrawItem& it, const Image& img, backend::PixelBox& b) {
  for (float v : it.box)
    if (!std::isfinite(v)) return false;
  auto px = [](float v, int size) { return int(std::lround(std::clamp(v, -kMargin, size + kMargin))); };
  // Box x2 is exclusive (width x2 - x1, no "+1"): its last pixel column is x2 - 1.
  b.x1 = px(it.box[0], img.w);
  b.y1 = px(it.box[1], img.h);
  b.x2 = std::max(b.x1, px(it.box[2], img.w) - 1);
  b.y2 = std::max(b.y1, px(it.box[3], img.h) - 1);
  return b.x2 >= 0 && b.y2 >= 0 && b.x1 < img.w && b.y1 < img.h;
}

std::string tag_text(const DrawItem& it) {
  char score[32];
  std::snprintf(score, sizeof score, "%.2f", double(it.score));
  return it.label.empty() ? score : it.label + " " + score;
}

std::string lower_extension(const std::string& path) {
  const size_t dot = path.rfind('.'), slash = path.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot + 1);
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

}  // namespace

std::array<uint8_t, 3> palette_color(int i) {
  // Golden-ratio hue steps keep consecutive classes far apart on the colour wheel; alternating
  // brightness separates the classes whose hues come close after many steps.
  const uint32_t u = uint32_t(i);
  const double hue = std::fmod(u * 0.6180339887498949, 1.0);
  return hsv(hue, u % 3 == 2 ? 0.6 : 0.85, u % 2 ? 0.78 : 0.97);
}

Image draw_detections(const Image& img, const std::vector<DrawItem>& items) {
  const size_t pixels = size_t(img.w) * img.h;
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].mask && items[i].mask->size() != pixels)
      fail("detection ", i, ": mask has ", items[i].mask->size(), " bytes, the ", img.w, "x", img.h,
           " image needs ", pixels);
  Image out = img;
  for (const DrawItem& it : items)
    if (it.mask) backend::mask(out, *it.mask, palette_color(it.color));
  // Thin on small images, still visible on large ones.
  const int thickness = std::max(1, int(std::lround(std::max(img.w, img.h) / 400.0)));
  std::vector<backend::PixelBox> boxes(items.size());
  std::vector<bool> shown(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    shown[i] = pixel_box(items[i], img, boxes[i]);
    if (shown[i]) backend::box(out, boxes[i], thickness, palette_color(items[i].color));
  }
  for (size_t i = 0; i < items.size(); ++i)
    if (shown[i]) backend::tag(out, boxes[i], tag_text(items[i]), palette_color(items[i].color));
  return out;
}

void write_detections_image(const std::string& path, const Image& img, const std::vector<DrawItem>& items) {
  const std::string ext = lower_extension(path);
  const bool png = ext == "png";
  if (!png && ext != "jpg" && ext != "jpeg")
    fail(path, ": cannot tell the image format (name the file .png, .jpg or .jpeg)");
  Image drawn = draw_detections(img, items);
  // stb_image_write in both builds, so the files do not depend on OPENCV.
  write_atomically(path, [&](const std::string& tmp) {
    try {
      if (png) write_png(tmp, drawn);
      else write_jpg(tmp, drawn, 95);
    } catch (const Error&) {
      fail(path, ": cannot write ", png ? "PNG" : "JPEG", " (disk full?)");
    }
  });
}

}  // namespace mabdet::detect
