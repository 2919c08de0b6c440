#include <doctest/doctest.h>

#include "norm_harness.h"

using namespace mabdet;

TEST_CASE("norm=none adds a bias, gradients check and accumulate") {
  Section sec("convolutional", "t.cfg", 1);
  test::NormHarness h(make_norm("none", Scope{sec, nullptr}, 3), Shape{2, 3, 4, 5}, 11);
  test::check_gradients(h);
}

TEST_CASE("norm=none: inference_affine is the bias (nothing without one)") {
  std::vector<Section> secs = parse_cfg_text("[convolutional]\nbias=0\n", "t.cfg");
  Tensor scale, shift;
  CHECK_FALSE(make_norm("none", Scope{secs[0], nullptr}, 3)->inference_affine(scale, shift));
  Section with_bias("convolutional", "t.cfg", 1);
  auto n = make_norm("none", Scope{with_bias, nullptr}, 3);
  n->params()[0].value->fill(0.5f);
  REQUIRE(n->inference_affine(scale, shift));
  CHECK(scale[2] == 1.f);
  CHECK(shift[2] == 0.5f);
}
