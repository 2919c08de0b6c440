// Image decode: PNG round trip exact; JPEG close to its source; the OpenCV build's decoder gives
// the same PNG pixels as stb_image and JPEG pixels within IDCT rounding; truncated JPEG, BMP and
// PNM rejected.
#include <doctest/doctest.h>
#include <stb/stb_image_write.h>

#include <cmath>
#include <cstdlib>

#include "data_fixture.h"
#include "mabdet/data/image.h"
#include "mabdet/error.h"
#include "mabdet/rng.h"

using namespace mabdet;
using namespace mabdet::testing;

namespace {
Image smooth_image(int w, int h, uint64_t seed) {
  Rng rng(seed);
  Image im = solid(w, h, 0, 0, 0);
  double f[3] = {rng.uniform(0.05, 0.2), rng.uniform(0.05, 0.2), rng.uniform(0.05, 0.2)};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) im.row(y)[3 * x + c] = uint8_t(127.5 + 120 * std::sin(f[c] * x + 0.7 * c) * std::cos(f[c] * y));
  return im;
}
double mean_abs_diff(const Image& a, const Image& b) {
  REQUIRE(a.w == b.w);
  REQUIRE(a.h == b.h);
  double s = 0;
  for (size_t i = 0; i < a.pix.size(); ++i) s += std::abs(int(a.pix[i]) - int(b.pix[i]));
  return s / double(a.pix.size());
}
}  // namespace

TEST_CASE("image: PNG exact, JPEG close, both decoders agree, truncated JPEG rejected") {
  TempDir tmp;
  Image src = smooth_image(67, 41, 3);
  write_png(tmp / "a.png", src);
  write_jpg(tmp / "a.jpg", src, 95);
  Image png = decode_image(tmp / "a.png");
  CHECK(png.pix == src.pix);
  Image jpg = decode_image(tmp / "a.jpg");
  CHECK(mean_abs_diff(jpg, src) < 3.0);
  std::string png_bytes = read_file(tmp / "a.png"), jpg_bytes = read_file(tmp / "a.jpg");
  auto bytes = [](const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); };
  Image png_stb = decode_image_stb(bytes(png_bytes), png_bytes.size(), "a.png");
  Image jpg_stb = decode_image_stb(bytes(jpg_bytes), jpg_bytes.size(), "a.jpg");
  INFO("decoder: ", image_decoder_name());
  CHECK(png.pix == png_stb.pix);             // PNG is lossless: same pixels from either decoder
  CHECK(mean_abs_diff(jpg, jpg_stb) < 1.0);  // JPEG: IDCT and upsampling rounding only
  write_file(tmp / "p.jpg", jpg_bytes + std::string(5000, 'x'));  // data after EOI is allowed
  CHECK(decode_image(tmp / "p.jpg").pix == jpg.pix);
  write_file(tmp / "p.png", png_bytes + std::string(100, 'x'));  // and after IEND
  CHECK(decode_image(tmp / "p.png").pix == src.pix);
  write_file(tmp / "t.jpg", jpg_bytes.substr(0, jpg_bytes.size() * 2 / 3));
  CHECK_THROWS_WITH_AS(decode_image(tmp / "t.jpg"), (tmp / "t.jpg" + ": truncated JPEG (no end-of-image marker)").c_str(),
                       Error);
}

// Uncompressed formats have no end marker: stb_image fills a cut BMP with black rows and returns
// a cut PNM's missing pixels as uninitialized memory. Their headers say how long they must be.
TEST_CASE("image: BMP and PNM shorter than their headers announce are rejected, whole ones decode") {
  TempDir tmp;
  const Image src = smooth_image(13, 7, 5);
  REQUIRE(stbi_write_bmp((tmp / "a.bmp").c_str(), src.w, src.h, 3, src.pix.data()));
  const std::string bmp = read_file(tmp / "a.bmp");
  CHECK(decode_image(tmp / "a.bmp").pix == src.pix);
  write_file(tmp / "t.bmp", bmp.substr(0, bmp.size() - 1));
  // 24-bit rows of 13 pixels padded to 40 bytes, 7 of them after a 54-byte header.
  CHECK_THROWS_WITH_AS(decode_image(tmp / "t.bmp"),
                       (tmp / "t.bmp" + ": truncated BMP (13x7 at 24 bits from byte 54 needs 334 bytes, the file has 333)").c_str(),
                       Error);
  std::string ppm = "P6\n# 3x2, 8-bit\n3 2\n255\n";
  for (int i = 0; i < 18; ++i) ppm += char(10 * i);
  write_file(tmp / "a.ppm", ppm);
  const Image p = decode_image(tmp / "a.ppm");
  CHECK((p.w == 3 && p.h == 2 && p.pix[17] == 170));
  write_file(tmp / "t.ppm", ppm.substr(0, ppm.size() - 1));
  CHECK_THROWS_WITH_AS(decode_image(tmp / "t.ppm"),
                       (tmp / "t.ppm" + ": truncated PNM (3x2 needs 18 bytes of pixels, the file has 17)").c_str(), Error);
  const std::string pgm16 = std::string("P5 2 2 65535\n") + std::string(7, '\x7f');  // 16-bit: 8 bytes due
  write_file(tmp / "t.pgm", pgm16);
  CHECK_THROWS_WITH_AS(decode_image(tmp / "t.pgm"),
                       (tmp / "t.pgm" + ": truncated PNM (2x2 needs 8 bytes of pixels, the file has 7)").c_str(), Error);
}
