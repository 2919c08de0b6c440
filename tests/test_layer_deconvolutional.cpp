#include <doctest/doctest.h>

#include "layer_util.h"

using namespace mabdet;
using namespace mabdet::test;
using namespace mabdet::layer_test;

TEST_CASE("deconvolutional: gradients match finite differences and backward adds") {
  struct Case {
    const char* cfg;
    Shape in;
  };
  const Case cases[] = {
      {"[deconvolutional]\nfilters=3\nsize=2\nstride=2\n", {2, 2, 3, 4}},  // Mask R-CNN's upsampler
      {"[deconvolutional]\nfilters=2\nsize=3\nstride=2\npadding=1\nactivation=leaky\n", {1, 3, 4, 3}},
      {"[deconvolutional]\nfilters=2\nsize=3\npad=1\nbias=0\nactivation=logistic\n", {2, 2, 3, 3}},
  };
  uint64_t seed = 900;
  for (const Case& c : cases) {
    const std::string cfg = c.cfg;
    CAPTURE(cfg);
    check_layer_grads(cfg, c.in, seed);
    seed += 10;
  }
}

TEST_CASE("deconvolutional: forward and gradients match torch conv_transpose2d") {
  struct Case {
    const char* name;
    const char* cfg;
  };
  const Case cases[] = {{"deconv_k2_s2", "[deconvolutional]\nfilters=3\nsize=2\nstride=2\n"},
                        {"deconv_k3_s2_p1", "[deconvolutional]\nfilters=2\nsize=3\nstride=2\npadding=1\n"}};
  for (const Case& c : cases) {
    const std::string name = c.name;
    CAPTURE(name);
    auto f = load_fixture(c.name);
    auto l = build_layer(c.cfg, {f.at("x").shape()});
    Param w = find_param(*l, "weights"), b = find_param(*l, "norm.bias");
    REQUIRE(w.value->shape() == f.at("w").shape());
    w.value->copy_from(f.at("w"));
    b.value->copy_from(f.at("b"));
    check_fixture_pass(*l, f, name);
    check_close(name + " dw", *w.grad, f.at("gw"));
    check_close(name + " db", *b.grad, f.at("gb"));
  }
}

TEST_CASE("deconvolutional: output size and cfg errors") {
  const std::vector<Shape> in{{1, 4, 7, 5}};
  CHECK(build_layer("[deconvolutional]\nfilters=2\nsize=2\nstride=2\n", in)->reshape(in) == Shape{1, 2, 14, 10});
  CHECK(build_layer("[deconvolutional]\nfilters=2\nsize=3\nstride=2\npadding=1\n", in)->reshape(in) ==
        Shape{1, 2, 13, 9});
  CHECK(build_error("[deconvolutional]\nfilters=0\nsize=2\n", in) == "t.cfg:2 [deconvolutional] filters=0: must be in 1..65536");
  CHECK(build_error("[deconvolutional]\nfilters=2\nsize=-2\n", in) == "t.cfg:3 [deconvolutional] size=-2: must be in 1..65536");
  CHECK(build_error("[deconvolutional]\nfilters=2\nsize=2\nstride=0\n", in).find("stride=0: must be in 1..65536") !=
        std::string::npos);
  CHECK(build_error("[deconvolutional]\nfilters=2\nsize=2\ngroups=2\n", in).find("groups=2: unknown or unused key") !=
        std::string::npos);
  CHECK(build_error("[deconvolutional]\nfilters=2\nsize=1\npadding=1\n", {{1, 4, 1, 1}})
            .find("padding 1 leaves no output for a 1x1 input") != std::string::npos);
}
