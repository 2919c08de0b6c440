#include <doctest/doctest.h>

#include "norm_harness.h"

using namespace mabdet;

TEST_CASE("norm=none adds a bias, gradients check and accumulate") {
  Section sec("convolutional", "t.cfg", 1);
  test::NormHarness h(make_norm("none", Scope{sec, nullptr}, 3), Shape{2, 3, 4, 5}, 11);
  CHECK(test::gradcheck(h.g, 1) < 1e-2);
  test::check_backward_adds(h.g, 2);
}
