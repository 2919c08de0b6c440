// Drawing detections: box outlines in the class colour, masks blended (neither the picture nor the
// pure colour), everything else untouched, boxes clipped at the border, tags (OpenCV builds), and
// the written file decoding back to the drawn pixels.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "data_fixture.h"
#include "mabdet/detect/draw.h"
#include "mabdet/error.h"

using namespace mabdet;
using namespace mabdet::detect;
using namespace mabdet::testing;

namespace {
// A gradient, so that "unchanged" cannot pass by a drawing that happens to match a flat colour.
Image gradient(int w, int h) {
  Image im = solid(w, h, 0, 0, 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = im.row(y) + 3 * x;
      p[0] = uint8_t(40 + x * 2 % 180), p[1] = uint8_t(60 + y * 2 % 180), p[2] = uint8_t(90 + (x + y) % 50);
    }
  return im;
}
std::array<uint8_t, 3> at(const Image& im, int x, int y) {
  const uint8_t* p = im.row(y) + 3 * x;
  return {p[0], p[1], p[2]};
}
DrawItem item(float x1, float y1, float x2, float y2, int color, const std::vector<uint8_t>* mask = nullptr) {
  DrawItem it{{x1, y1, x2, y2}, "cat", 0.87f, mask, color};
  return it;
}
// Pixels of a and b that differ inside the inclusive rectangle.
int changed(const Image& a, const Image& b, int x1, int y1, int x2, int y2) {
  int n = 0;
  for (int y = y1; y <= y2; ++y)
    for (int x = x1; x <= x2; ++x) n += at(a, x, y) != at(b, x, y);
  return n;
}
}  // namespace

TEST_CASE("draw: palette colours differ for neighbouring classes and wrap for any index") {
  for (int i = 0; i < 40; ++i) {
    CAPTURE(i);
    const auto a = palette_color(i), b = palette_color(i + 1);
    CHECK(std::abs(a[0] - b[0]) + std::abs(a[1] - b[1]) + std::abs(a[2] - b[2]) > 60);
  }
  CHECK(palette_color(-3) == palette_color(-3));  // defined for negative indices, and fixed
}

TEST_CASE("draw: box edges take the class colour, far pixels stay, a mask is blended") {
  const Image img = gradient(160, 120);
  std::vector<uint8_t> mask(size_t(160) * 120, 0);
  for (int y = 80; y < 110; ++y)
    for (int x = 100; x < 140; ++x) mask[size_t(y) * 160 + x] = 1;
  const Image out = draw_detections(img, {item(10, 60, 40, 90, 2), item(100, 80, 140, 110, 5, &mask)});
  REQUIRE(out.w == img.w);
  REQUIRE(out.h == img.h);
  const auto c2 = palette_color(2), c5 = palette_color(5);
  // x2 = 40 is exclusive: the right edge is column 39, the bottom row 89.
  for (int y : {65, 75, 85}) {
    CHECK(at(out, 10, y) == c2);
    CHECK(at(out, 39, y) == c2);
  }
  CHECK(at(out, 25, 60) == c2);
  CHECK(at(out, 25, 89) == c2);
  CHECK(at(out, 41, 75) == at(img, 41, 75));  // just outside the right edge
  CHECK(at(out, 25, 75) == at(img, 25, 75));  // inside the box, no mask: the picture shows
  // Mask interior pixels: the blend of the two, not either one.
  for (auto [x, y] : {std::pair{110, 88}, std::pair{130, 104}}) {
    CAPTURE(x);
    const auto o = at(img, x, y), d = at(out, x, y);
    CHECK(d != o);
    CHECK(d != c5);
    for (int k = 0; k < 3; ++k) CHECK(std::abs(d[k] - (o[k] + (c5[k] - o[k]) * kMaskAlpha)) <= 1.0);
  }
  // Nothing drawn far from both boxes and the tags (which sit above the boxes' top-left corners).
  CHECK(changed(img, out, 0, 0, 159, 40) == 0);
  CHECK(changed(img, out, 45, 92, 95, 119) == 0);
}

TEST_CASE("draw: boxes partly or wholly outside are clipped; bad boxes and masks") {
  const Image img = gradient(64, 48);
  const Image out = draw_detections(img, {item(-30, -20, 20, 1e9f, 1), item(100, 10, 200, 40, 3),
                                          item(NAN, 0, 10, 10, 4), item(-1e30f, 5, 1e30f, 6, 6)});
  const auto c1 = palette_color(1), c6 = palette_color(6);
  CHECK(at(out, 19, 30) == c1);  // the visible right edge of the first box
  CHECK(at(out, 63, 5) == c6);   // the huge thin box spans the width
  CHECK(at(out, 0, 5) == c6);
  // Right of box 1 and below the thin box's tag, only the off-image and NaN boxes could draw.
  CHECK(changed(img, out, 21, 24, 63, 47) == 0);
  CHECK(changed(img, out, 63, 7, 63, 47) == 0);
  const std::vector<uint8_t> small(10, 1);
  CHECK_THROWS_WITH_AS(draw_detections(img, {item(0, 0, 5, 5, 0, &small)}),
                       "detection 0: mask has 10 bytes, the 64x48 image needs 3072", Error);
}

#ifdef MABDET_OPENCV
TEST_CASE("draw: OpenCV builds tag each box with its label and score on a filled background") {
  const Image img = gradient(120, 100);
  DrawItem it = item(20, 50, 100, 90, 0);
  it.label = "person";
  const Image out = draw_detections(img, {it});
  const auto c = palette_color(0);
  // The tag sits above the box: many pixels of the background colour and some of the text's.
  int bg = 0, other = 0;
  for (int y = 30; y < 50; ++y)
    for (int x = 20; x < 100; ++x) {
      if (at(out, x, y) == at(img, x, y)) continue;
      ++(at(out, x, y) == c ? bg : other);
    }
  CHECK(bg > 100);
  CHECK(other > 20);
  // A longer label makes a wider tag.
  it.label = "person with a long name";
  const Image wide = draw_detections(img, {it});
  CHECK(changed(img, wide, 20, 30, 119, 49) > changed(img, out, 20, 30, 119, 49));
}
#endif

TEST_CASE("draw: written PNG decodes to the drawn pixels, JPEG close; bad paths named") {
  TempDir tmp;
  const Image img = gradient(50, 40);
  std::vector<uint8_t> mask(size_t(50) * 40, 0);
  for (size_t i = 500; i < 900; ++i) mask[i] = 1;
  const std::vector<DrawItem> items = {item(5, 5, 30, 30, 7, &mask)};
  const Image drawn = draw_detections(img, items);
  write_detections_image(tmp / "a.PNG", img, items);
  CHECK(decode_image(tmp / "a.PNG").pix == drawn.pix);
  write_detections_image(tmp / "b.jpeg", img, items);
  const Image jpg = decode_image(tmp / "b.jpeg");
  double diff = 0;
  for (size_t i = 0; i < jpg.pix.size(); ++i) diff += std::abs(jpg.pix[i] - drawn.pix[i]);
  CHECK(diff / double(jpg.pix.size()) < 4.0);
  // No temporary files stay behind.
  auto files = [&] {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(tmp.path)) n += e.is_regular_file();
    return n;
  };
  CHECK(files() == 2);
  CHECK_THROWS_WITH_AS(write_detections_image(tmp / "c.gif", img, items),
                       (tmp / "c.gif" + ": cannot tell the image format (name the file .png, .jpg or .jpeg)").c_str(), Error);
  CHECK_THROWS_WITH_AS(write_detections_image(tmp / "no/d.png", img, items),
                       (tmp / "no/d.png" + ": cannot create (No such file or directory)").c_str(), Error);
  std::filesystem::create_directory(tmp / "dir.png");
  CHECK_THROWS_WITH_AS(write_detections_image(tmp / "dir.png", img, items),
                       (tmp / "dir.png" + ": is a directory, not an output file").c_str(), Error);
  CHECK(files() == 2);
}
