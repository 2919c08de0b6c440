#include <doctest/doctest.h>

#include "layer_util.h"

using namespace mabdet;
using namespace mabdet::test;
using namespace mabdet::layer_test;

TEST_CASE("connected: gradients match finite differences and backward adds") {
  const char* cfgs[] = {"[connected]\noutput=5\n", "[connected]\noutput=4\nactivation=leaky\n",
                        "[connected]\noutput=3\nbias=0\nactivation=logistic\n"};
  uint64_t seed = 300;
  for (const char* c : cfgs) {
    const std::string cfg = c;
    CAPTURE(cfg);
    const Shape in{3, 2, 3, 2};
    check_layer_grads(cfg, in, seed);
    seed += 10;
  }
}

TEST_CASE("connected: forward is W * flatten(x) + b") {
  const Shape in{2, 3, 1, 2};
  auto l = build_layer("[connected]\noutput=2\n", {in});
  CHECK(l->reshape({in}) == Shape{2, 2, 1, 1});
  Tensor& w = *find_param(*l, "weights").value;
  REQUIRE(w.shape() == Shape{2, 6, 1, 1});
  Tensor& b = *find_param(*l, "norm.bias").value;
  for (size_t i = 0; i < w.size(); ++i) w[i] = float(i % 5) - 2.f;
  b[0] = 0.5f;
  b[1] = -1.f;
  Tensor x = random_tensor(in, 9), y(Shape{2, 2, 1, 1});
  Context ctx;
  l->forward(ctx, {&x}, y);
  for (int n = 0; n < 2; ++n)
    for (int o = 0; o < 2; ++o) {
      double want = b[o];
      for (int i = 0; i < 6; ++i) want += double(w[o * 6 + i]) * x[n * 6 + i];
      CHECK(y.at(n, o) == doctest::Approx(want).epsilon(1e-5));
    }
}

TEST_CASE("connected: cfg errors and the norm default") {
  const std::vector<Shape> in{{1, 4, 2, 2}};
  CHECK(build_error("[connected]\noutput=0\n", in) == "t.cfg:2 [connected] output=0: must be in 1..65536");
  CHECK(build_error("[connected]\n", in).find("missing required key 'output'") != std::string::npos);
  CHECK(build_error("[connected]\noutput=3\nactivation=tanh\n", in).find("activation=tanh: allowed values") !=
        std::string::npos);
  CHECK(build_error("[connected]\noutput=3\nnorm=bogus\n", in).find("norm=bogus") != std::string::npos);
  CHECK(build_error("[connected]\noutput=3\nsize=3\n", in).find("size=3: unknown or unused key") != std::string::npos);
  // [net]'s norm= is for convs: a connected layer never reads it (bogus would fail if it did).
  CHECK(build_error("[net]\nnorm=bogus\n[connected]\noutput=3\n", in) == "");
  auto l = build_layer("[connected]\noutput=3\n", in);
  CHECK_THROWS_WITH_AS(l->reshape({{1, 5, 2, 2}}), doctest::Contains("built for 16"), Error);
}
