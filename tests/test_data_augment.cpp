// Augmentation geometry: flips and resizes move boxes and masks with the pixels; polygon,
// uncompressed and compressed RLE forms of one mask agree; augmentation keys from a cfg [net].
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "data_fixture.h"
#include "mabdet/cfg.h"
#include "mabdet/data/batch.h"
#include "mabdet/data/mask_target.h"
#include "mabdet/error.h"
#include "mabdet/mask.h"

using namespace mabdet;
using namespace mabdet::testing;

namespace {
constexpr int kW = 64, kH = 48;
// A white star-ish polygon and a red rectangle on black, painted with COCO's own rasterization so
// that the masks are exact. Annotations: the polygon as a polygon, the rectangle as compressed RLE.
const std::vector<double> kPoly = {10.5, 6, 30, 12.25, 26, 20, 34.5, 36, 14, 30, 6, 18};

struct Scene {
  TempDir tmp;
  CocoDataset ds;
  Rle poly_rle, rect_rle;
  Scene() {
    Image im = solid(kW, kH, 0, 0, 0);
    poly_rle = rle_from_polygon(kPoly.data(), kPoly.size() / 2, kH, kW);
    std::vector<uint8_t> rect(size_t(kW) * kH, 0);  // column-major
    for (int x = 40; x < 58; ++x)
      for (int y = 20; y < 44; ++y) rect[size_t(x) * kH + y] = 1;
    rect_rle = rle_encode(rect.data(), kH, kW);
    std::vector<uint8_t> pm = rle_decode(poly_rle);
    for (int x = 0; x < kW; ++x)
      for (int y = 0; y < kH; ++y) {
        uint8_t* p = im.row(y) + 3 * x;
        if (pm[size_t(x) * kH + y]) p[0] = p[1] = p[2] = 255;
        if (rect[size_t(x) * kH + y]) p[0] = 255;
      }
    write_png(tmp / "s.png", im);
    BoxXYWH pb = rle_to_bbox(poly_rle);
    std::string poly_json;
    for (double v : kPoly) poly_json += (poly_json.empty() ? "" : ",") + std::to_string(v);
    std::string json = R"({"images": [{"id": 1, "file_name": "s.png", "width": 64, "height": 48}],
      "categories": [{"id": 1, "name": "star"}, {"id": 2, "name": "rect"}],
      "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [)" +
                       cat(pb[0], ",", pb[1], ",", pb[2], ",", pb[3]) + R"(], "segmentation": [[)" + poly_json + R"(]]},
        {"id": 2, "image_id": 1, "category_id": 2, "bbox": [40, 20, 18, 24],
         "segmentation": {"size": [48, 64], "counts": )" + nlohmann::json(rle_to_string(rect_rle)).dump() + R"(}}]})";
    ds = load_coco_text(json, "s.json", tmp.path);
  }
};

AugmentCfg plain_cfg() {
  AugmentCfg c;
  for (int i = 0; i < 3; ++i) {
    c.mean[i] = 0;
    c.std[i] = 1;  // keep pixel values readable
  }
  return c;
}

// Tight box (x1,y1,x2,y2) of mask pixels (row-major, w wide) or of pixels passing `pred`.
template <class F>
std::array<int, 4> tight_box(int w, int h, F pred) {
  std::array<int, 4> b{w, h, -1, -1};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (pred(x, y)) b = {std::min(b[0], x), std::min(b[1], y), std::max(b[2], x + 1), std::max(b[3], y + 1)};
  return b;
}
}  // namespace

TEST_CASE("augment: a flipped sample's boxes and masks match the flipped image") {
  Scene s;
  AugmentCfg cfg = plain_cfg();
  std::vector<float> scratch;
  Batch plain, flipped;
  assemble_batch(s.ds, {0}, {plan_resize(kW, kH, kH, 1333, false)}, cfg, true, plain, scratch);
  assemble_batch(s.ds, {0}, {plan_resize(kW, kH, kH, 1333, true)}, cfg, true, flipped, scratch);
  REQUIRE(flipped.images.shape() == Shape{1, 3, 64, 64});  // 48 padded to 64
  const ResizePlan& p = flipped.meta[0].plan;
  CHECK(p.out_w == kW);
  CHECK(p.flip);
  // Pixels: exactly the mirror image of the unflipped sample (scale 1 is an exact copy).
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x) REQUIRE(flipped.images.at(0, c, y, x) == plain.images.at(0, c, y, kW - 1 - x));
  CHECK(flipped.images.at(0, 0, 50, 10) == 0);  // padding
  const Targets& t = flipped.targets[0];
  REQUIRE(t.size() == 2);
  auto R = [&](int x, int y) { return flipped.images.at(0, 0, y, x); };
  auto G = [&](int x, int y) { return flipped.images.at(0, 1, y, x); };
  for (int k = 0; k < 2; ++k) {
    CAPTURE(k);
    std::vector<uint8_t> m = render_mask(t.masks[size_t(k)], p);
    // Mask pixels are the object's pixels in the flipped image: exactly for RLE (flipped as a
    // bitmask); for the polygon (re-rasterized mirrored, as Detectron2 does) up to a few edge
    // pixels, since COCO's fill rounds half-pixels one way.
    auto obj = [&](int x, int y) { return k == 0 ? G(x, y) == 255 : (R(x, y) == 255 && G(x, y) == 0); };
    int differ = 0, area = 0;
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x) {
        differ += bool(m[size_t(y) * kW + x]) != obj(x, y);
        area += obj(x, y);
      }
    CHECK(area > 200);
    CHECK(differ <= (k == 0 ? 8 : 0));
    // The box is the tight box of the object's pixels.
    auto tb = tight_box(kW, kH, obj);
    for (int i = 0; i < 4; ++i) CHECK(t.boxes[size_t(4 * k + i)] == doctest::Approx(tb[size_t(i)]));
  }
  CHECK(t.boxes[4] == 64 - 58);  // the rectangle's x1 after the flip: W - x2
}

TEST_CASE("augment: resizing keeps boxes and masks on their objects") {
  Scene s;
  AugmentCfg cfg = plain_cfg();
  std::vector<float> scratch;
  for (int short_side : {96, 30}) {      // enlarge 2x, shrink 0.625x (antialiased path)
    for (bool flip : {false, true}) {
      CAPTURE(short_side);
      CAPTURE(flip);
      Batch b;
      assemble_batch(s.ds, {0}, {plan_resize(kW, kH, short_side, 1333, flip)}, cfg, true, b, scratch);
      const ResizePlan& p = b.meta[0].plan;
      CHECK(p.out_h == short_side);
      CHECK(p.out_w == int(kW * double(short_side) / kH + 0.5));
      CHECK(b.images.h() % 32 == 0);
      CHECK(b.images.w() % 32 == 0);
      const Targets& t = b.targets[0];
      for (int k = 0; k < 2; ++k) {
        CAPTURE(k);
        // Object pixels in the resized image: mostly-white (star) or mostly-red-not-green (rect).
        auto obj = [&](int x, int y) {
          float r = b.images.at(0, 0, y, x), g = b.images.at(0, 1, y, x);
          return k == 0 ? g > 127.5f : (r > 127.5f && g < 127.5f);
        };
        auto tb = tight_box(p.out_w, p.out_h, obj);
        for (int i = 0; i < 4; ++i) CHECK(std::fabs(t.boxes[size_t(4 * k + i)] - tb[size_t(i)]) <= 1.0f);
        // And back to the original image (detections' path): the json box again.
        float back[4];
        inverse_transform_box(p, &t.boxes[size_t(4 * k)], back);
        for (int i = 0; i < 4; ++i) CHECK(back[i] == doctest::Approx(s.ds.images[0].anns[size_t(k)].box[i]).epsilon(1e-5));
        std::vector<uint8_t> m = render_mask(t.masks[size_t(k)], p);
        int agree = 0, n = p.out_w * p.out_h;
        for (int y = 0; y < p.out_h; ++y)
          for (int x = 0; x < p.out_w; ++x) agree += bool(m[size_t(y) * p.out_w + x]) == obj(x, y);
        CHECK(agree >= n - n / 25);  // boundary pixels may round either way
      }
    }
  }
}

TEST_CASE("masks: polygon, uncompressed and compressed RLE decode to the same pixels") {
  GtMask poly, counts, str;
  poly.kind = GtMask::Kind::Polygons;
  poly.polygons = {kPoly};
  Rle r = rle_from_polygon(kPoly.data(), kPoly.size() / 2, kH, kW);
  counts.kind = str.kind = GtMask::Kind::Rle;
  counts.h = str.h = kH;
  counts.w = str.w = kW;
  counts.counts = r.counts;
  str.compressed = rle_to_string(r);
  CHECK(rle_area(r) > 200);
  CHECK(gt_mask_rle(poly, kH, kW) == r);
  CHECK(gt_mask_rle(counts, kH, kW) == r);
  CHECK(gt_mask_rle(str, kH, kW) == r);
  // Through a flip at scale 1 the three forms still agree (the polygon is re-rasterized mirrored).
  ResizePlan p = plan_resize(kW, kH, kH, 1333, true);
  std::vector<uint8_t> a = render_mask(poly, p), b = render_mask(counts, p), c = render_mask(str, p);
  CHECK(b == c);
  size_t differ = 0;
  for (size_t i = 0; i < a.size(); ++i) differ += a[i] != b[i];
  CHECK(differ <= 8);  // COCO's fill is not exactly mirror-symmetric on edge pixels
}

TEST_CASE("mask targets: polygon and RLE paths give the object's shape inside a box") {
  Scene s;
  const ResizePlan p = plan_resize(kW, kH, 96, 1333, true);
  Targets t = build_targets(s.ds.images[0], p, true);
  REQUIRE(t.size() == 2);
  const int M = 14;
  // The rectangle's own box: every cell is inside (RLE path).
  std::vector<float> out(size_t(2) * M * M);
  int idx[2] = {1, 0};
  float boxes[8];
  std::copy(t.boxes.begin() + 4, t.boxes.begin() + 8, boxes);
  std::copy(t.boxes.begin(), t.boxes.begin() + 4, boxes + 4);
  mask_targets(t, p, boxes, idx, 2, M, out.data());
  for (int i = 0; i < M * M; ++i) REQUIRE(out[size_t(i)] == 1.f);
  // A box straddling the rectangle's left edge: left half empty, right half full.
  const float half[4] = {t.boxes[4] - 10, t.boxes[5], t.boxes[4] + 10, t.boxes[7]};
  std::vector<float> h(size_t(M) * M);
  mask_target(t.masks[1], p, half, M, h.data());
  for (int y = 0; y < M; ++y)
    for (int x = 0; x < M; ++x) REQUIRE(h[size_t(y) * M + x] == (x >= M / 2 ? 1.f : 0.f));
  // The star (polygon path) vs the same star as RLE: the two target paths agree on most cells.
  GtMask as_rle;
  as_rle.kind = GtMask::Kind::Rle;
  as_rle.h = kH;
  as_rle.w = kW;
  as_rle.counts = s.poly_rle.counts;
  std::vector<float> a(size_t(M) * M), b(size_t(M) * M);
  mask_target(t.masks[0], p, boxes + 4, M, a.data());
  mask_target(as_rle, p, boxes + 4, M, b.data());
  int same = 0, fg = 0;
  for (int i = 0; i < M * M; ++i) {
    same += a[size_t(i)] == b[size_t(i)];
    fg += a[size_t(i)] > 0;
  }
  CHECK(fg > M * M / 3);
  CHECK(fg < M * M);
  CHECK(same >= M * M - M * M / 10);
}

TEST_CASE("augment: keys from a cfg [net] section, with file:line errors") {
  auto secs = parse_cfg_text("[net]\nmin_size=640,800\nmax_size=1000\nflip=0\nmean=1,2,3\nstd=2,2,2\n", "x.cfg");
  AugmentCfg c = augment_cfg_from(secs[0]);
  CHECK(c.min_sizes == std::vector<int>{640, 800});
  CHECK(c.max_size == 1000);
  CHECK(c.flip_prob == 0);
  CHECK(c.mean[2] == 3);
  secs[0].check_unused();
  auto bad = parse_cfg_text("[net]\nmean=1,2\n", "y.cfg");
  CHECK_THROWS_WITH_AS(augment_cfg_from(bad[0]), "y.cfg:2 [net] mean=1,2: needs 3 values (R,G,B)", Error);
  // The long side cap: 64x48 to short side 96 would be 128 wide; max_size 100 caps it.
  ResizePlan p = plan_resize(kW, kH, 96, 100, false);
  CHECK(p.out_w == 100);
  CHECK(p.out_h == 75);
}
