#include <doctest/doctest.h>

#include "detect_util.h"
#include "mabdet/detect/roi_align.h"
#include "mabdet/rng.h"

using namespace mabdet;
using namespace mabdet::detect;
using namespace mabdet::test;

namespace {
RoIAlignParams params_of(const std::vector<double>& v) {
  RoIAlignParams p;
  p.spatial_scale = float(v[0]);
  p.pooled_h = int(v[1]), p.pooled_w = int(v[2]);
  p.sampling_ratio = int(v[3]);
  p.aligned = v[4] != 0;
  return p;
}
}  // namespace

// The reference is float64; ours accumulates in float: 1e-5 relative (floor 1, values are O(1)).
TEST_CASE("detect roi_align: forward and input gradient match torchvision (aligned 0/1, ratio 0/2/3)") {
  const Fixture f = detect_fixture("roi_align");
  const auto& s = get(f, "x_shape");
  Tensor x{int(s[0]), int(s[1]), int(s[2]), int(s[3])};
  set_from(x, get(f, "x"));
  const Tensor rois = rows_from(get(f, "rois"), 5);
  // The same RoIs as boxes + image index.
  Tensor boxes(rois.n(), 4);
  IndexTensor image(rois.n(), 1);
  for (int r = 0; r < rois.n(); ++r) {
    image[r] = int(rois[5 * r]);
    for (int k = 0; k < 4; ++k) boxes[4 * r + k] = rois[5 * r + 1 + k];
  }
  for (int i = 0; i < 6; ++i) {
    const std::string c = "case" + std::to_string(i) + "_";
    CAPTURE(c);
    const RoIAlignParams p = params_of(get(f, c + "params"));
    Tensor y, y2;
    roi_align(x, rois, p, y);
    CHECK(y.shape() == Shape{rois.n(), x.c(), p.pooled_h, p.pooled_w});
    CHECK(worst_diff(y, get(f, c + "y")) <= 1e-5);
    roi_align(x, boxes, image, p, y2);
    CHECK(worst_diff(y2, std::vector<double>(y.data(), y.data() + y.size()), 1.0) == 0);

    Tensor gy(y.shape()), gx(x.shape()), gx2(x.shape());
    set_from(gy, get(f, c + "gy"));
    gx.zero();
    roi_align_backward(gy, rois, p, gx);
    CHECK(worst_diff(gx, get(f, c + "gx")) <= 1e-5);
    // backward adds: a second pass through the boxes form doubles it
    gx2.copy_from(gx);
    roi_align_backward(gy, boxes, image, p, gx2);
    for (size_t k = 0; k < gx.size(); ++k) gx[k] *= 2.f;
    CHECK(worst_diff(gx2, std::vector<double>(gx.data(), gx.data() + gx.size())) <= 1e-6);
  }
}

TEST_CASE("detect roi_align: backward is the adjoint of forward (<dy, A x> = <A^T dy, x>)") {
  Rng rng(3);
  Tensor x(2, 4, 9, 7), rois(5, 5);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(rng.normal());
  for (int r = 0; r < 5; ++r) {
    const float x1 = float(rng.uniform(-3, 25)), y1 = float(rng.uniform(-3, 30));
    const float v[] = {float(r % 2), x1, y1, x1 + float(rng.uniform(1, 20)), y1 + float(rng.uniform(1, 20))};
    std::copy(v, v + 5, rois.data() + 5 * r);
  }
  for (bool aligned : {false, true})
    for (int ratio : {0, 2}) {
      CAPTURE(aligned);
      CAPTURE(ratio);
      RoIAlignParams p{3, 3, 0.25f, ratio, aligned};
      Tensor y, dy, dx(x.shape());
      roi_align(x, rois, p, y);
      dy.reshape(y.shape());
      for (size_t i = 0; i < dy.size(); ++i) dy[i] = float(rng.normal());
      dx.zero();
      roi_align_backward(dy, rois, p, dx);
      double lhs = 0, rhs = 0;
      for (size_t i = 0; i < y.size(); ++i) lhs += double(dy[i]) * y[i];
      for (size_t i = 0; i < x.size(); ++i) rhs += double(dx[i]) * x[i];
      CHECK(lhs == doctest::Approx(rhs).epsilon(1e-5));
    }
}

TEST_CASE("detect roi_align: constant maps pool to the constant; no RoIs give an empty output") {
  Tensor x(1, 2, 6, 6), y;
  for (size_t i = 0; i < x.size(); ++i) x[i] = i < 36 ? 3.f : -1.f;
  Tensor rois(1, 5);
  const float v[] = {0, 1.f, 1.f, 9.5f, 7.25f};  // inside the 12 x 12 image at scale 0.5
  std::copy(v, v + 5, rois.data());
  RoIAlignParams p{2, 3, 0.5f, 0, true};
  roi_align(x, rois, p, y);
  for (int k = 0; k < 6; ++k) CHECK(y[k] == doctest::Approx(3.f));
  for (int k = 6; k < 12; ++k) CHECK(y[k] == doctest::Approx(-1.f));
  Tensor none(0, 5), dx(x.shape());
  roi_align(x, none, p, y);
  CHECK(y.shape() == Shape{0, 2, 2, 3});
  dx.zero();
  roi_align_backward(y, none, p, dx);
  for (size_t i = 0; i < dx.size(); ++i) REQUIRE(dx[i] == 0.f);
}
