#include <doctest/doctest.h>

#include "layer_util.h"

using namespace mabdet;
using namespace mabdet::test;
using namespace mabdet::layer_test;

TEST_CASE("upsample: nearest copies; gradients check and accumulate") {
  for (int stride : {2, 3}) {
    CAPTURE(stride);
    const Shape in{2, 2, 3, 4};
    auto l = build_layer(cat("[upsample]\nstride=", stride, "\n"), {in});
    const Shape o = l->reshape({in});
    CHECK(o == Shape{2, 2, 3 * stride, 4 * stride});
    Tensor x = random_tensor(in, 1), y(o);
    Context ctx;
    l->forward(ctx, {&x}, y);
    for (int n = 0; n < 2; ++n)
      for (int c = 0; c < 2; ++c)
        for (int h = 0; h < o.h; ++h)
          for (int w = 0; w < o.w; ++w) CHECK(y.at(n, c, h, w) == x.at(n, c, h / stride, w / stride));
    check_grads(*l, random_tensor(in, 2), 3);
  }
  CHECK(build_layer("[upsample]\n", {{1, 1, 2, 2}})->reshape({{1, 1, 2, 2}}) == Shape{1, 1, 4, 4});
  CHECK(build_error("[upsample]\nstride=0\n", {{1, 1, 2, 2}}) == "t.cfg:2 [upsample] stride=0: must be in 1..65536");
  CHECK(build_error("[upsample]\nscale=2\n", {{1, 1, 2, 2}}).find("scale=2: unknown or unused key") != std::string::npos);
}
