#include <doctest/doctest.h>

#include "layer_util.h"

using namespace mabdet;
using namespace mabdet::test;
using namespace mabdet::layer_test;

TEST_CASE("shortcut: act(a + b) gradients check and accumulate into every input") {
  const Shape s{2, 3, 4, 3};
  const char* cfgs[] = {"[shortcut]\n", "[shortcut]\nactivation=leaky\n", "[shortcut]\nactivation=logistic\n"};
  uint64_t seed = 700;
  for (const char* c : cfgs) {
    const std::string cfg = c;
    CAPTURE(cfg);
    auto l = build_layer(cfg, {s, s});
    std::vector<Tensor> xs;
    xs.push_back(random_tensor(s, seed));
    xs.push_back(random_tensor(s, seed + 1));
    LayerHarness h(*l, std::move(xs), true);
    CHECK(gradcheck(h.g, seed + 2) < 1e-2);
    check_backward_adds(h.g, seed + 3);
    seed += 10;
  }
  // Three inputs, and a null input gradient is skipped.
  auto l = build_layer("[shortcut]\nactivation=relu\n", {s, s, s});
  Tensor a = random_tensor(s, 1), b = random_tensor(s, 2), c = random_tensor(s, 3), y(l->reshape({s, s, s}));
  Context ctx;
  l->forward(ctx, {&a, &b, &c}, y);
  for (size_t i = 0; i < y.size(); ++i) CHECK(y[i] == std::max(0.f, a[i] + b[i] + c[i]));
  Tensor dy = random_tensor(s, 4), da(s), dc(s);
  da.zero();
  dc.fill(1.f);
  l->backward(ctx, {&a, &b, &c}, y, dy, {&da, nullptr, &dc});
  for (size_t i = 0; i < y.size(); ++i) {
    CHECK(da[i] == (y[i] > 0 ? dy[i] : 0.f));
    CHECK(dc[i] == 1.f + da[i]);
  }
}

TEST_CASE("shortcut: mismatched shapes are an error") {
  CHECK(build_error("[shortcut]\n", {{1, 4, 8, 8}, {1, 4, 4, 4}}) ==
        "t.cfg:1 [shortcut]: shortcut: input shapes differ: 1x4x8x8 vs 1x4x4x4 (input 1)");
  auto l = build_layer("[shortcut]\n", {{1, 4, 8, 8}, {1, 4, 8, 8}});
  CHECK_THROWS_WITH_AS(l->reshape({{2, 4, 8, 8}, {2, 8, 8, 8}}), doctest::Contains("2x4x8x8 vs 2x8x8x8"), Error);
  CHECK(build_error("[shortcut]\nactivation=mish\n", {{1, 4, 8, 8}, {1, 4, 8, 8}}).find("activation=mish") !=
        std::string::npos);
  const LayerType* t = find_layer_type("shortcut");
  REQUIRE(t);
  CHECK(t->implicit_previous);
  CHECK(t->min_inputs == 2);
}
