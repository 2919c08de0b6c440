#include <doctest/doctest.h>

#include "detect_util.h"
#include "mabdet/detect/box_coder.h"
#include "mabdet/detect/boxes.h"

using namespace mabdet;
using namespace mabdet::detect;
using namespace mabdet::test;

// Box arithmetic is the same float expressions as torchvision's: results agree to a few ulps
// (exactly, in practice); 1e-6 relative leaves room for a different libm in log/exp.
TEST_CASE("detect boxes: area, IoU, clip and remove_small match torchvision") {
  const Fixture f = detect_fixture("boxes");
  const Tensor a = rows_from(get(f, "a"), 4), b = rows_from(get(f, "b"), 4);
  Tensor area, iou;
  box_area(a, area);
  CHECK(area.shape() == Shape{a.n(), 1});
  CHECK(worst_diff(area, get(f, "area_a")) <= 1e-6);
  box_iou(a, b, iou);
  CHECK(iou.shape() == Shape{a.n(), b.n()});
  CHECK(worst_diff(iou, get(f, "iou"), 1e-3) <= 1e-6);
  CHECK(iou.at(2, 8) == 1.f);  // b[8] is a[2]

  Tensor c = a.clone();
  const auto& hw = get(f, "clip_hw");
  clip_boxes(c, int(hw[0]), int(hw[1]));
  CHECK(equal_f32(c, get(f, "clipped_a")));

  IndexTensor keep;
  remove_small_boxes(rows_from(get(f, "small_boxes"), 4), float(get(f, "small_min")[0]), keep);
  CHECK(values(keep) == get(f, "small_keep"));
}

TEST_CASE("detect boxes: disjoint and empty pairs have IoU 0, never NaN; empty sets give empty matrices") {
  Tensor a(3, 4), b(2, 4), iou;
  const float av[] = {0, 0, 0, 0, 5, 5, 5, 9, 0, 0, 4, 4}, bv[] = {0, 0, 0, 0, 2, 2, 6, 6};
  std::copy(av, av + 12, a.data());
  std::copy(bv, bv + 8, b.data());
  box_iou(a, b, iou);
  CHECK(iou.at(0, 0) == 0.f);  // two empty boxes: 0/0 in torchvision
  CHECK(iou.at(1, 1) == 0.f);  // a zero-width box inside another
  CHECK(iou.at(2, 1) == doctest::Approx(4.0 / 28.0));
  Tensor none(0, 4);
  box_iou(none, b, iou);
  CHECK(iou.shape() == Shape{0, 2});
  box_iou(a, none, iou);
  CHECK(iou.shape() == Shape{3, 0});
}

TEST_CASE("detect box coder: encode, decode and the dw/dh clamp match torchvision's BoxCoder") {
  const Fixture f = detect_fixture("box_coder");
  const Tensor ref = rows_from(get(f, "ref"), 4), target = rows_from(get(f, "target"), 4);
  for (const char* tag : {"w1", "w10"}) {
    const std::string t = tag;
    CAPTURE(t);
    const auto& w = get(f, t + "_weights");
    BoxCoder coder;
    coder.wx = float(w[0]), coder.wy = float(w[1]), coder.ww = float(w[2]), coder.wh = float(w[3]);
    Tensor deltas, boxes;
    coder.encode(ref, target, deltas);
    CHECK(worst_diff(deltas, get(f, t + "_encoded")) <= 1e-6);
    coder.decode(deltas, ref, boxes);
    CHECK(worst_diff(boxes, get(f, t + "_roundtrip")) <= 1e-6);
    CHECK(worst_diff(boxes, get(f, "target")) <= 1e-5);  // the round trip itself
    // Three delta sets per box, some far past the clamp (exp(30) would be 1e13 pixels wide).
    const Tensor d = rows_from(get(f, t + "_deltas"), 12);
    coder.decode(d, ref, boxes);
    CHECK(boxes.shape() == Shape{ref.n(), 12});
    CHECK(worst_diff(boxes, get(f, t + "_decoded")) <= 1e-6);
    const float* r = ref.data();
    CHECK(boxes[2] - boxes[0] == doctest::Approx(1000.0 / 16.0 * (r[2] - r[0])).epsilon(1e-5));
  }
}

TEST_CASE("detect box coder: zero deltas return the reference box; no deltas give no boxes") {
  Tensor ref(1, 4), d(1, 8), out;
  const float rv[] = {10, 20, 50, 30};
  std::copy(rv, rv + 4, ref.data());
  d.zero();
  BoxCoder coder{10, 10, 5, 5};
  coder.decode(d, ref, out);
  for (int k = 0; k < 8; ++k) CHECK(out[k] == rv[k % 4]);
  Tensor none_ref(0, 4), none_d(0, 4);
  coder.decode(none_d, none_ref, out);
  CHECK(out.shape() == Shape{0, 4});
}
