#include <doctest/doctest.h>

#include "detect_util.h"
#include "mabdet/detect/nms.h"

using namespace mabdet;
using namespace mabdet::detect;
using namespace mabdet::test;

// Kept indices must equal torchvision's exactly, order included.
TEST_CASE("detect nms: kept boxes and their order equal torchvision.ops.nms, ties and duplicates included") {
  const Fixture f = detect_fixture("nms");
  const Tensor boxes = rows_from(get(f, "boxes"), 4), scores = rows_from(get(f, "scores"), 1);
  IndexTensor keep;
  for (const char* thr : {"0.3", "0.5", "0.7"}) {
    CAPTURE(thr);
    nms(boxes, scores, std::stod(thr), keep);
    CHECK(values(keep) == get(f, std::string("keep_") + thr));
  }
  const IndexTensor classes = index_from(get(f, "classes"));
  for (const char* thr : {"0.4", "0.5"}) {
    CAPTURE(thr);
    batched_nms(boxes, scores, classes, std::stod(thr), keep);
    CHECK(values(keep) == get(f, std::string("batched_keep_") + thr));
  }
}

TEST_CASE("detect nms: IoU exactly at the threshold survives; equal scores keep the lower index") {
  Tensor b(3, 4), s(3, 1);
  const float bv[] = {0, 0, 1, 1, 0, 0, 2, 1, 0, 0, 2, 1};  // IoU(0, 1) = 0.5; 1 and 2 identical
  std::copy(bv, bv + 12, b.data());
  s[0] = 0.5f, s[1] = 0.9f, s[2] = 0.9f;
  IndexTensor keep;
  nms(b, s, 0.5, keep);
  CHECK(values(keep) == std::vector<double>{1, 0});
  nms(b, s, 0.49, keep);
  CHECK(values(keep) == std::vector<double>{1});
  // Different classes never suppress each other; the output is still score-ordered overall.
  IndexTensor cls(3, 1);
  cls[0] = 7, cls[1] = -1, cls[2] = 7;
  batched_nms(b, s, cls, 0.49, keep);
  CHECK(values(keep) == std::vector<double>{1, 2});
  Tensor none(0, 4), none_s(0, 1);
  IndexTensor none_c(0, 1);
  nms(none, none_s, 0.5, keep);
  CHECK(keep.n() == 0);
  batched_nms(none, none_s, none_c, 0.5, keep);
  CHECK(keep.n() == 0);
}
