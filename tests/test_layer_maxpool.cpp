#include <doctest/doctest.h>

#include "layer_util.h"

using namespace mabdet;
using namespace mabdet::test;
using namespace mabdet::layer_test;

namespace {
// Distinct values 0.05 apart in random order: no two candidates of a window come within the
// finite-difference step of each other, so no sample sits on a tie (a kink the check cannot judge
// when overlapping windows make the jump small).
Tensor spaced_input(Shape s, uint64_t seed) {
  Tensor t(s);
  Rng rng(seed);
  for (size_t i = 0; i < t.size(); ++i) t[i] = 0.05f * float(i) - 1.f;
  for (size_t i = t.size(); i > 1; --i) std::swap(t[i - 1], t[size_t(rng.randint(int(i)))]);
  return t;
}
}  // namespace

TEST_CASE("maxpool: gradients match finite differences and backward adds") {
  struct Case {
    const char* cfg;
    Shape in;
  };
  const Case cases[] = {{"[maxpool]\nsize=3\nstride=2\n", {2, 2, 7, 6}},
                        {"[maxpool]\nsize=2\nstride=2\n", {1, 3, 5, 5}},
                        {"[maxpool]\nsize=3\nstride=1\npadding=2\n", {1, 2, 4, 4}}};
  uint64_t seed = 500;
  for (const Case& c : cases) {
    const std::string cfg = c.cfg;
    CAPTURE(cfg);
    auto l = build_layer(cfg, {c.in});
    check_grads(*l, spaced_input(c.in, seed), seed + 1);
    seed += 10;
  }
}

TEST_CASE("maxpool: forward and gradient match torch max_pool2d") {
  struct Case {
    const char* name;
    const char* cfg;
  };
  const Case cases[] = {{"maxpool_k3_s2_p1", "[maxpool]\nsize=3\nstride=2\n"},
                        {"maxpool_k2_s2", "[maxpool]\nsize=2\nstride=2\n"}};
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    auto f = load_fixture(c.name);
    auto l = build_layer(c.cfg, {f.at("x").shape()});
    check_fixture_pass(*l, f, name, 0, 1e-6);
  }
}

TEST_CASE("maxpool: padding never wins, even over negative inputs; ties go to the first") {
  auto l = build_layer("[maxpool]\nsize=3\nstride=2\n", {{1, 1, 3, 3}});
  Tensor x(Shape{1, 1, 3, 3}), y(l->reshape({x.shape()}));
  x.fill(-5.f);
  x[0] = -4.f;
  Context ctx;
  l->forward(ctx, {&x}, y);
  REQUIRE(y.shape() == Shape{1, 1, 2, 2});
  CHECK(y[0] == -4.f);
  CHECK(y[3] == -5.f);
  // Ties go to the first candidate in row-major order (as torch): output (1,1) sees the equal
  // pixels (1,1), (1,2), (2,1), (2,2) and routes its gradient to (1,1) alone.
  Tensor dy(y.shape()), dx(x.shape());
  dy.zero();
  dy[3] = 1.f;
  dx.zero();
  l->backward(ctx, {&x}, y, dy, {&dx});
  CHECK(dx[4] == 1.f);
  CHECK(dx[5] + dx[7] + dx[8] == 0.f);
}

TEST_CASE("maxpool: defaults, shapes and cfg errors") {
  const std::vector<Shape> in{{1, 2, 8, 8}};
  CHECK(build_layer("[maxpool]\nsize=3\nstride=2\n", in)->reshape(in) == Shape{1, 2, 4, 4});  // padding 1
  CHECK(build_layer("[maxpool]\nsize=2\nstride=2\n", {{1, 2, 7, 7}})->reshape({{1, 2, 7, 7}}) == Shape{1, 2, 3, 3});
  CHECK(build_layer("[maxpool]\nstride=2\n", in)->reshape(in) == Shape{1, 2, 4, 4});  // size = stride
  CHECK(build_error("[maxpool]\nsize=0\n", in) == "t.cfg:2 [maxpool] size=0: must be in 1..65536");
  CHECK(build_error("[maxpool]\nsize=2\nstride=-1\n", in) == "t.cfg:3 [maxpool] stride=-1: must be in 1..65536");
  CHECK(build_error("[maxpool]\nsize=2\npadding=2\n", in) == "t.cfg:3 [maxpool] padding=2: must be in [0, size-1] = [0, 1]");
  CHECK(build_error("[maxpool]\nsize=2\npad=1\n", in).find("pad=1: unknown or unused key") != std::string::npos);
  CHECK(build_error("[maxpool]\nsize=9\nstride=1\npadding=0\n", in).find("input 8x8 is smaller than the 9x9") !=
        std::string::npos);
}
