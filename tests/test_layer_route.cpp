#include <doctest/doctest.h>

#include "layer_util.h"

using namespace mabdet;
using namespace mabdet::test;
using namespace mabdet::layer_test;

TEST_CASE("route: channel concatenation; gradients check and accumulate") {
  const Shape a{2, 2, 3, 4}, b{2, 3, 3, 4}, c{2, 1, 3, 4};
  auto l = build_layer("[route]\n", {a, b, c});
  CHECK(l->reshape({a, b, c}) == Shape{2, 6, 3, 4});
  Tensor xa = random_tensor(a, 1), xb = random_tensor(b, 2), xc = random_tensor(c, 3), y(Shape{2, 6, 3, 4});
  Context ctx;
  l->forward(ctx, {&xa, &xb, &xc}, y);
  for (int n = 0; n < 2; ++n)
    for (int h = 0; h < 3; ++h)
      for (int w = 0; w < 4; ++w) {
        CHECK(y.at(n, 1, h, w) == xa.at(n, 1, h, w));
        CHECK(y.at(n, 2, h, w) == xb.at(n, 0, h, w));
        CHECK(y.at(n, 4, h, w) == xb.at(n, 2, h, w));
        CHECK(y.at(n, 5, h, w) == xc.at(n, 0, h, w));
      }
  std::vector<Tensor> xs;
  xs.push_back(random_tensor(a, 4));
  xs.push_back(random_tensor(b, 5));
  xs.push_back(random_tensor(c, 6));
  LayerHarness h(*l, std::move(xs), true);
  CHECK(gradcheck(h.g, 7) < 1e-2);
  check_backward_adds(h.g, 8);
  // A null input gradient is skipped.
  Tensor dy = random_tensor(y.shape(), 9), db(b);
  db.zero();
  l->backward(ctx, {&xa, &xb, &xc}, y, dy, {nullptr, &db, nullptr});
  CHECK(db.at(1, 2, 2, 3) == dy.at(1, 4, 2, 3));
}

TEST_CASE("route: mismatched spatial sizes are an error") {
  CHECK(build_error("[route]\n", {{1, 4, 8, 8}, {1, 2, 4, 4}}) ==
        "t.cfg:1 [route]: route: input 1 is 1x2x4x4, input 0 is 1x4x8x8: batch and spatial sizes must match");
  CHECK(build_error("[route]\nlayers=-1,-4\n", {{1, 4, 8, 8}}).find("layers=-1,-4: unknown or unused key") !=
        std::string::npos);
  CHECK(build_layer("[route]\n", {{1, 4, 8, 8}})->reshape({{3, 4, 2, 2}}) == Shape{3, 4, 2, 2});
}
