#include <doctest/doctest.h>

#include "layer_util.h"

using namespace mabdet;
using namespace mabdet::test;
using namespace mabdet::layer_test;

namespace {
struct GradCase {
  const char* cfg;
  Shape in;
};
}  // namespace

TEST_CASE("convolutional: gradients match finite differences and backward adds") {
  const GradCase cases[] = {
      {"[convolutional]\nfilters=3\nsize=3\npad=1\nactivation=relu\n", {2, 2, 5, 4}},
      {"[convolutional]\nfilters=4\nsize=3\nstride=2\npadding=2\n", {2, 3, 7, 6}},
      {"[convolutional]\nfilters=2\nsize=3\ndilation=2\npad=1\n", {1, 3, 7, 7}},
      {"[convolutional]\nfilters=4\nsize=3\ngroups=2\npad=1\nactivation=leaky\n", {2, 4, 5, 5}},
      {"[convolutional]\nfilters=3\nsize=3\ncentralize=1\nbias=0\nactivation=logistic\n", {2, 2, 6, 5}},
      {"[convolutional]\nfilters=3\nsize=2\nstride=2\nbias=0\nactivation=logistic\n", {2, 3, 6, 6}},
      {"[convolutional]\nfilters=4\nsize=1\ngroups=2\n", {2, 4, 3, 5}},  // 1x1 path, no im2col
      {"[convolutional]\nfilters=3\nsize=1\nstride=2\ncentralize=1\n", {1, 5, 5, 5}},
  };
  uint64_t seed = 100;
  for (const GradCase& c : cases) {
    const std::string cfg = c.cfg;
    CAPTURE(cfg);
    check_layer_grads(c.cfg, c.in, seed += 10);
  }
}

TEST_CASE("convolutional: params, state, output shape") {
  auto l = build_layer("[convolutional]\nfilters=8\nsize=3\nstride=2\npad=1\n", {{2, 3, 9, 8}});
  CHECK(l->reshape({{2, 3, 9, 8}}) == Shape{2, 8, 5, 4});
  CHECK(l->reshape({{1, 3, 4, 4}}) == Shape{1, 8, 2, 2});
  auto ps = l->params();
  REQUIRE(ps.size() == 2);
  CHECK(ps[0].name == "weights");
  CHECK(ps[0].value->shape() == Shape{8, 3, 3, 3});
  CHECK(ps[0].decay_mult == 1.f);
  CHECK(ps[1].name == "norm.bias");
  CHECK(ps[1].decay_mult == 0.f);
  CHECK(l->params().size() == 2);
  CHECK(build_layer("[convolutional]\nfilters=8\nsize=3\nbias=0\n", {{1, 3, 5, 5}})->params().size() == 1);
  // He normal init: the sample std of the weights is close to sqrt(2 / fan_in).
  auto big = build_layer("[convolutional]\nfilters=64\nsize=3\n", {{1, 32, 5, 5}});
  const Tensor& w = *big->params()[0].value;
  double ss = 0;
  for (size_t i = 0; i < w.size(); ++i) ss += double(w[i]) * w[i];
  CHECK(std::sqrt(ss / double(w.size())) == doctest::Approx(std::sqrt(2.0 / (32 * 9))).epsilon(0.03));
}

TEST_CASE("convolutional: centralize=1 makes the output blind to a per-filter weight offset") {
  const Shape in{1, 3, 6, 6};
  Tensor x = random_tensor(in, 5);
  for (bool centralize : {true, false}) {
    auto l = build_layer(cat("[convolutional]\nfilters=2\nsize=3\ncentralize=", int(centralize), "\n"), {in});
    Context ctx;
    Tensor a(l->reshape({in})), b(a.shape());
    l->forward(ctx, {&x}, a);
    Tensor& w = *find_param(*l, "weights").value;
    for (size_t i = 0; i < w.size() / 2; ++i) w[i] += 0.5f;  // filter 0 only
    l->forward(ctx, {&x}, b);
    double diff = 0;
    for (size_t i = 0; i < a.size(); ++i) diff = std::max(diff, double(std::fabs(a[i] - b[i])));
    if (centralize) CHECK(diff < 1e-5);
    else CHECK(diff > 0.1);
  }
}

TEST_CASE("convolutional: forward and gradients match torch conv2d") {
  struct FixtureCase {
    const char* name;
    const char* cfg;
  };
  const FixtureCase cases[] = {
      {"conv_s2_p1_g2", "[convolutional]\nfilters=6\nsize=3\nstride=2\npad=1\ngroups=2\n"},
      {"conv_d2_p2", "[convolutional]\nfilters=4\nsize=3\npadding=2\ndilation=2\n"},
      {"conv_1x1_g2", "[convolutional]\nfilters=4\nsize=1\ngroups=2\n"},
      {"conv_centralized", "[convolutional]\nfilters=5\nsize=3\npad=1\ncentralize=1\nbias=0\n"},
  };
  for (const FixtureCase& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    auto f = load_fixture(c.name);
    auto l = build_layer(c.cfg, {f.at("x").shape()});
    Param w = find_param(*l, "weights");
    w.value->copy_from(f.at("w"));
    const bool bias = f.count("b");
    if (bias) find_param(*l, "norm.bias").value->copy_from(f.at("b"));
    check_fixture_pass(*l, f, name);
    check_close(cat(c.name, " dw"), *w.grad, f.at("gw"));
    if (bias) check_close(cat(c.name, " db"), *find_param(*l, "norm.bias").grad, f.at("gb"));
  }
}

TEST_CASE("convolutional: cfg errors name the file, line and key") {
  const std::vector<Shape> in{{1, 4, 8, 8}};
  auto err = [&](const std::string& body) { return build_error("[convolutional]\n" + body, in); };
  CHECK(err("filters=0\nsize=3\n") == "t.cfg:2 [convolutional] filters=0: must be in 1..65536");
  CHECK(err("filters=4\nsize=0\n") == "t.cfg:3 [convolutional] size=0: must be in 1..65536");
  CHECK(err("size=3\n").find("missing required key 'filters'") != std::string::npos);
  CHECK(err("filters=4\nsize=3\nstride=0\n").find("stride=0: must be in 1..65536") != std::string::npos);
  CHECK(err("filters=4\nsize=3\ndilation=0\n").find("dilation=0: must be in 1..65536") != std::string::npos);
  CHECK(err("filters=4\nsize=3\npadding=-1\n").find("padding=-1: must be in 0..65536") != std::string::npos);
  CHECK(err("filters=4\nsize=3\ngroups=3\n").find("groups=3: must divide the input channels (4)") != std::string::npos);
  CHECK(err("filters=6\nsize=3\ngroups=4\n").find("groups=4: must divide filters (6)") != std::string::npos);
  CHECK(err("filters=4\nsize=3\nactivation=swish\n") ==
        "t.cfg:4 [convolutional] activation=swish: allowed values: linear | relu | leaky | logistic");
  CHECK(err("filters=4\nsize=3\nnorm=bogus\n").find("norm=bogus") != std::string::npos);
  CHECK(err("filters=4\nsize=3\ncentralize=2\n").find("centralize=2: expected 0 or 1") != std::string::npos);
  CHECK(err("filters=4\nsize=3\nbatch_normalize=1\n").find("batch_normalize=1: unknown or unused key") !=
        std::string::npos);
  CHECK(err("filters=4\nsize=9\n").find("t.cfg:1 [convolutional]: convolutional: input 8x8 is smaller than the 9x9") !=
        std::string::npos);
  CHECK(err("filters=4\nsize=3\n") == "");
  // [net] supplies inheritable keys (centralize=, the norm's), never layer geometry.
  CHECK(build_error("[net]\ncentralize=1\n[convolutional]\nfilters=4\nsize=3\n", in) == "");
}

TEST_CASE("convolutional and deconvolutional: shape changes between forwards reuse buffers correctly") {
  // Detection batches change shape: after a forward at one shape, a smaller and then a larger
  // input must give what a fresh layer with the same weights gives (buffers resized, not stale).
  const char* cfgs[] = {"[convolutional]\nfilters=4\nsize=3\nstride=2\npad=1\nactivation=leaky\n",
                        "[convolutional]\nfilters=4\nsize=1\ncentralize=1\n",
                        "[deconvolutional]\nfilters=3\nsize=2\nstride=2\nactivation=relu\n"};
  const Shape shapes[] = {{2, 3, 9, 8}, {1, 3, 5, 4}, {3, 3, 11, 12}};
  for (const char* c : cfgs) {
    const std::string cfg = c;
    CAPTURE(cfg);
    auto l = build_layer(cfg, {shapes[0]}, 3);
    Context ctx;
    ctx.train = true;
    uint64_t seed = 20;
    for (const Shape& s : shapes) {
      auto fresh = build_layer(cfg, {s}, 3);  // same seed: same weights
      Tensor x = random_tensor(s, ++seed), y(l->reshape({s})), want(fresh->reshape({s}));
      l->forward(ctx, {&x}, y);
      fresh->forward(ctx, {&x}, want);
      check_close(cat(cfg, " at ", s.str()), y, want, 0, 0);
      Tensor dy = random_tensor(y.shape(), ++seed), dx(s), dx_want(s);
      dx.zero();
      dx_want.zero();
      for (Param& p : l->params()) p.grad->zero();
      l->backward(ctx, {&x}, y, dy, {&dx});
      fresh->backward(ctx, {&x}, want, dy, {&dx_want});
      check_close(cat(cfg, " dx at ", s.str()), dx, dx_want, 0, 0);
      check_close(cat(cfg, " dw at ", s.str()), *l->params()[0].grad, *fresh->params()[0].grad, 0, 0);
    }
  }
}
