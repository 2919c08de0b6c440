#include <doctest/doctest.h>

#include "detect_util.h"
#include "mabdet/detect/matcher.h"
#include "test_util.h"

using namespace mabdet;
using namespace mabdet::detect;
using namespace mabdet::test;

namespace {
// iou (G, P) from rows of values.
Tensor iou_of(int g, int p, std::initializer_list<float> v) {
  Tensor t(g, p);
  REQUIRE(v.size() == t.size());
  std::copy(v.begin(), v.end(), t.data());
  return t;
}
std::vector<int> ints(const IndexTensor& t) { return std::vector<int>(t.data(), t.data() + t.size()); }
}  // namespace

TEST_CASE("detect matcher: labels and matches equal torchvision's Matcher (RPN and box-head settings)") {
  const Fixture f = detect_fixture("matcher");
  const auto& shape = get(f, "iou_shape");
  Tensor iou{int(shape[0]), int(shape[1])};
  set_from(iou, get(f, "iou"));
  struct Case {
    const char* tag;
    Matcher m;
  };
  const Case cases[] = {{"rpn", Matcher{{0.3f, 0.7f}, {0, -1, 1}, true}}, {"roi", Matcher{{0.5f}, {0, 1}, false}}};
  for (const Case& c : cases) {
    const std::string tag = c.tag;
    CAPTURE(tag);
    c.m.validate("test");
    IndexTensor matches, labels;
    c.m.match(iou, matches, labels);
    // torchvision: a match index for foreground, -1 below the low threshold, -2 between
    const auto& want = get(f, tag + "_matches");
    REQUIRE(labels.size() == want.size());
    for (size_t j = 0; j < want.size(); ++j) {
      CAPTURE(j);
      const int w = int(want[j]);
      CHECK(labels[j] == (w >= 0 ? 1 : w == -1 ? 0 : -1));
      if (w >= 0) CHECK(matches[j] == w);
    }
  }
}

TEST_CASE("detect matcher: ignore band, thresholds inclusive from below") {
  // one GT, predictions at IoU 0.1, 0.3 (ignore: [0.3, 0.7)), 0.69, 0.7 (foreground), 0.9
  const Tensor iou = iou_of(1, 5, {0.1f, 0.3f, 0.69f, 0.7f, 0.9f});
  Matcher m;  // RPN defaults, no low-quality matches
  IndexTensor matches, labels;
  m.match(iou, matches, labels);
  CHECK(ints(labels) == std::vector<int>{0, -1, -1, 1, 1});
  CHECK(ints(matches) == std::vector<int>{0, 0, 0, 0, 0});
}

TEST_CASE("detect matcher: low-quality matches promote each GT's best predictions, ties included") {
  // GT 0 overlaps at most 0.4 (predictions 1 and 3 tie); GT 1 has a proper match (0.8) at
  // prediction 2. Prediction 3 is GT 0's best, but it overlaps GT 1 more: it becomes foreground
  // matched to GT 1, as in Detectron2 and torchvision.
  const Tensor iou = iou_of(2, 5, {0.1f, 0.4f, 0.2f, 0.4f, 0.0f,  //
                                   0.0f, 0.1f, 0.8f, 0.5f, 0.2f});
  Matcher m{{0.3f, 0.7f}, {0, -1, 1}, true};
  IndexTensor matches, labels;
  m.match(iou, matches, labels);
  CHECK(ints(labels) == std::vector<int>{0, 1, 1, 1, 0});
  CHECK(ints(matches) == std::vector<int>{0, 0, 1, 1, 1});
  m.allow_low_quality_matches = false;
  m.match(iou, matches, labels);
  CHECK(ints(labels) == std::vector<int>{0, -1, 1, -1, 0});
}

TEST_CASE("detect matcher: no ground truth means all background; no predictions, empty outputs") {
  Matcher m{{0.3f, 0.7f}, {0, -1, 1}, true};
  IndexTensor matches, labels;
  m.match(Tensor(0, 6), matches, labels);
  CHECK(ints(labels) == std::vector<int>(6, 0));
  CHECK(ints(matches) == std::vector<int>(6, 0));
  m.match(Tensor(3, 0), matches, labels);
  CHECK(labels.n() == 0);
  CHECK(matches.n() == 0);
}

TEST_CASE("detect matcher: bad thresholds or labels are cfg errors") {
  CHECK(error_of([] { Matcher{{0.7f, 0.3f}, {0, -1, 1}, false}.validate("a.cfg:9 [rpn]"); }) ==
        "a.cfg:9 [rpn]: matcher thresholds: must be ascending, got 0.7 before 0.3");
  CHECK(error_of([] { Matcher{{0.5f}, {0, -1, 1}, false}.validate("s"); }) ==
        "s: matcher labels: need 2 (one more than thresholds), got 3");
  CHECK(error_of([] { Matcher{{0.5f}, {0, 2}, false}.validate("s"); }) ==
        "s: matcher labels: each must be 1, 0 or -1, got 2");
}
