// The standalone [normalization] layer and the norm= machinery shared by every norm.
#include <doctest/doctest.h>

#include "fixture.h"
#include "layers/registry.h"
#include "norm_harness.h"

using namespace mabdet;

namespace {
std::unique_ptr<Layer> make_layer(const std::string& text, Shape in) {
  std::vector<Section> secs = parse_cfg_text(text, "t.cfg");
  const LayerType* t = find_layer_type(secs.back().type());
  REQUIRE(t);
  Rng rng(1);
  return t->make(Scope{secs.back(), secs.size() > 1 ? &secs[0] : nullptr}, {in}, rng);
}
}  // namespace

TEST_CASE("[normalization]: act(norm(x)) gradients check and accumulate for every norm") {
  const Shape s{2, 4, 3, 2};
  for (const std::string& norm : norm_names()) {
    for (bool train : {true, false}) {
      CAPTURE(norm);
      CAPTURE(train);
      auto layer = make_layer("[net]\ngn_groups=2\nmabn_buffer=1\n[normalization]\nactivation=logistic\nnorm=" + norm + "\n", s);
      CHECK(layer->type() == "normalization");
      Rng rng(3);
      Tensor x(s);
      test::fill_uniform(x, rng, -2.f, 2.f);
      std::vector<Tensor> in;
      in.push_back(std::move(x));
      test::LayerHarness h(*layer, std::move(in), train);
      for (auto& p : layer->params()) test::fill_uniform(*p.value, rng);
      CHECK(test::gradcheck(h.g, 1) < 1e-2);
      test::check_backward_adds(h.g, 2);
    }
  }
}

TEST_CASE("[normalization]: the output is the activation of the norm's output; no input gradient is fine") {
  const Shape s{1, 3, 2, 2};
  auto layer = make_layer("[normalization]\nnorm=mabn\nactivation=relu\n", s);
  CHECK(layer->state().size() == 4);  // the norm's state is the layer's
  auto norm = test::norm_from_cfg("[normalization]\nnorm=mabn\n", 3);
  Tensor x(s), out(s), ref(s), dout(s);
  Rng rng(4);
  test::fill_uniform(x, rng);
  dout.fill(1.f);
  Context ctx;
  ctx.train = true;
  layer->reshape({s});
  layer->forward(ctx, {&x}, out);
  norm->forward(ctx, x, ref);
  bool some_negative = false;
  for (size_t i = 0; i < s.size(); ++i) {
    some_negative |= ref[i] < 0;
    CHECK(out[i] == doctest::Approx(std::max(ref[i], 0.f)));
  }
  CHECK(some_negative);
  auto params = layer->params();
  REQUIRE(params.size() == 2);
  params[1].grad->zero();
  layer->backward(ctx, {&x}, out, dout, {nullptr});
  float relu_passed = 0;
  for (size_t i = 0; i < s.size(); ++i) relu_passed += ref[i] > 0 ? 1.f : 0.f;
  float dbeta = 0;
  for (int c = 0; c < 3; ++c) dbeta += (*params[1].grad)[c];
  CHECK(dbeta == doctest::Approx(relu_passed));  // dbeta sums dout where the relu let it through
}

TEST_CASE("norm= and shared keys: errors name file:line and key") {
  CHECK_THROWS_WITH_AS(test::norm_from_cfg("[net]\nnorm=batchnorm\n[convolutional]\n", 4),
                       doctest::Contains("t.cfg:2 [net] norm=batchnorm: allowed values: none"), Error);
  CHECK_THROWS_WITH_AS(test::norm_from_cfg("[convolutional]\nnorm=bn\nnorm_eps=abc\n", 4),
                       "t.cfg:3 [convolutional] norm_eps=abc: expected a number", Error);
  CHECK_THROWS_WITH_AS(test::norm_from_cfg("[convolutional]\nnorm=gn\nnorm_eps=0\ngn_groups=2\n", 4),
                       "t.cfg:3 [convolutional] norm_eps=0: must be > 0", Error);
  CHECK_THROWS_WITH_AS(test::norm_from_cfg("[net]\nnorm_momentum=-0.1\n[convolutional]\nnorm=brn\n", 4),
                       doctest::Contains("t.cfg:2 [net] norm_momentum=-0.1: must be in [0, 1)"), Error);
  CHECK_THROWS_WITH_AS(make_layer("[normalization]\nnorm=bn\nactivation=swish\n", Shape{1, 2, 1, 1}),
                       doctest::Contains("t.cfg:3 [normalization] activation=swish: unknown activation 'swish'"), Error);
  // A section's key overrides [net]'s; every key read is recorded, so nothing is left unused.
  std::vector<Section> secs = parse_cfg_text("[net]\nnorm=gn\ngn_groups=32\nnorm_eps=0.1\n[convolutional]\ngn_groups=2\n", "t.cfg");
  auto n = make_norm(Scope{secs[1], &secs[0]}, 4);
  CHECK(n->name() == "gn");
  CHECK(secs[1].unused_keys().empty());
  CHECK(secs[0].unused_keys() == std::vector<std::string>{"gn_groups"});  // overridden, never read from [net]
}

TEST_CASE("every norm: names, decay-free params, defaults") {
  const std::vector<std::string> want = {"none", "bn", "sync_bn", "frozen_bn", "gn", "brn", "mabn"};
  for (const std::string& name : want) {
    CAPTURE(name);
    auto n = test::norm_from_cfg("[convolutional]\ngn_groups=1\nnorm=" + name + "\n", 4);
    CHECK(n->name() == name);
    CHECK(n->default_centralize() == (name == "mabn"));
    for (auto& p : n->params()) CHECK((p.decay_mult == 0.f && p.lr_mult == 1.f));
  }
  std::vector<std::string> names = norm_names();
  std::sort(names.begin(), names.end());
  std::vector<std::string> sorted_want = want;
  std::sort(sorted_want.begin(), sorted_want.end());
  CHECK(names == sorted_want);
}
