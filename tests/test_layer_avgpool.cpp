#include <doctest/doctest.h>

#include "layer_util.h"

using namespace mabdet;
using namespace mabdet::test;
using namespace mabdet::layer_test;

TEST_CASE("avgpool: global mean per channel; gradients check and accumulate") {
  const Shape in{2, 3, 4, 5};
  auto l = build_layer("[avgpool]\n", {in});
  CHECK(l->reshape({in}) == Shape{2, 3, 1, 1});
  Tensor x = random_tensor(in, 1), y(Shape{2, 3, 1, 1});
  Context ctx;
  l->forward(ctx, {&x}, y);
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c) {
      double s = 0;
      for (int i = 0; i < 20; ++i) s += x[(n * 3 + c) * 20 + i];
      CHECK(y.at(n, c) == doctest::Approx(s / 20));
    }
  check_grads(*l, random_tensor(in, 2), 3);
  CHECK(build_error("[avgpool]\nsize=2\n", {in}).find("size=2: unknown or unused key") != std::string::npos);
}
