// oneDNN's convolutions against the im2col + sgemm reference: the same layer run with ctx.conv =
// Dnnl and = Reference on every conv shape the cfgs use (7x7/2 stem, 3x3 at strides 1 and 2,
// strided 1x1, dilation, groups, odd sizes, the RoI heads' many small maps, the mask head's
// deconv), comparing the output, dL/dx and every parameter gradient. ConvPath::Dnnl forces oneDNN
// wherever it has the shape; Auto (the default) picks it by each layer's measured rule. The gradient checks of
// test_layer_*.cpp run whichever path the build defaults to; this file ties the two together.
#include <doctest/doctest.h>

#include <cstdlib>

#include "layer_util.h"
#include "ops/conv_dnnl.h"

using namespace mabdet;
using namespace mabdet::test;
using namespace mabdet::layer_test;

namespace {

struct Pass {
  Tensor y, dx;
  std::vector<Tensor> dparams;
};

// Training forward of x and backward of dy, from param grads and dx preset to a nonzero value, so
// that both paths must add to (not overwrite) what is there.
Pass run(Layer& l, const Tensor& x, const Tensor& dy, ConvPath path) {
  Context ctx;
  ctx.train = true;
  ctx.conv = path;
  Pass p;
  p.y = Tensor(l.reshape({x.shape()}));
  l.forward(ctx, {&x}, p.y);
  p.dx = Tensor(x.shape());
  p.dx.fill(0.25f);
  for (Param& q : l.params()) q.grad->fill(0.5f);
  l.backward(ctx, {&x}, p.y, dy, {&p.dx});
  for (Param& q : l.params()) p.dparams.push_back(q.grad->clone(Device::CPU));
  return p;
}

struct Case {
  const char* cfg;
  Shape in;
};

void compare_paths(const Case& c, uint64_t seed) {
  std::unique_ptr<Layer> a = build_layer(c.cfg, {c.in}, seed);
  std::unique_ptr<Layer> b = build_layer(c.cfg, {c.in}, seed);
  const Tensor x = random_tensor(c.in, seed + 1);
  const Shape out = a->reshape({c.in});
  b->reshape({c.in});
  const Tensor dy = random_tensor(out, seed + 2);
  const Pass ref = run(*a, x, dy, ConvPath::Reference);
  const Pass got = run(*b, x, dy, ConvPath::Dnnl);
  check_close("y", got.y, ref.y, 1e-4, 1e-4);
  check_close("dx", got.dx, ref.dx, 1e-4, 1e-4);
  REQUIRE(got.dparams.size() == ref.dparams.size());
  for (size_t i = 0; i < ref.dparams.size(); ++i)
    check_close(cat("param grad ", i), got.dparams[i], ref.dparams[i], 1e-3, 1e-4);
}

const Case kCases[] = {
    {"[convolutional]\nfilters=8\nsize=7\nstride=2\npad=1\nactivation=relu\n", {2, 3, 33, 30}},
    {"[convolutional]\nfilters=16\nsize=3\npad=1\nnorm=bn\nactivation=relu\n", {2, 8, 12, 11}},
    {"[convolutional]\nfilters=16\nsize=3\nstride=2\npad=1\n", {1, 8, 13, 12}},
    {"[convolutional]\nfilters=16\nsize=3\nstride=2\npad=1\n", {2, 8, 8, 8}},
    {"[convolutional]\nfilters=12\nsize=1\n", {2, 16, 9, 7}},
    {"[convolutional]\nfilters=12\nsize=1\nstride=2\n", {2, 16, 8, 8}},  // the bottom row and column unread
    {"[convolutional]\nfilters=12\nsize=1\nstride=2\n", {1, 16, 9, 9}},
    {"[convolutional]\nfilters=6\nsize=3\ndilation=2\npad=1\n", {1, 4, 11, 10}},
    {"[convolutional]\nfilters=8\nsize=3\ngroups=4\npad=1\nactivation=leaky\n", {2, 8, 7, 7}},
    {"[convolutional]\nfilters=8\nsize=3\npad=1\ncentralize=1\nnorm=mabn\n", {2, 6, 9, 9}},
    {"[convolutional]\nfilters=16\nsize=3\npad=1\nnorm=gn\ngn_groups=4\n", {24, 8, 7, 7}},  // RoI heads
    {"[convolutional]\nfilters=4\nsize=3\nstride=2\npadding=2\n", {2, 3, 7, 6}},
    {"[convolutional]\nfilters=3\nsize=2\nstride=2\n", {2, 3, 6, 6}},
    {"[deconvolutional]\nfilters=8\nsize=2\nstride=2\npad=0\nactivation=relu\n", {6, 16, 7, 7}},  // mask head
    {"[deconvolutional]\nfilters=4\nsize=3\nstride=2\npad=1\n", {2, 5, 5, 6}},
    // ResNet-14's small maps, which oneDNN takes with AVX-512 kernels (ops::dnnl_pays)
    {"[convolutional]\nfilters=64\nsize=3\npad=1\nnorm=bn\nactivation=relu\n", {8, 64, 8, 8}},
    {"[convolutional]\nfilters=64\nsize=3\nstride=2\npad=1\nnorm=bn\n", {2, 32, 16, 16}},
    {"[convolutional]\nfilters=32\nsize=1\nstride=2\nnorm=bn\n", {2, 16, 32, 32}},
};

}  // namespace

TEST_CASE("conv dnnl: oneDNN and the im2col reference agree on output and every gradient" *
          doctest::skip(!ops::dnnl_built())) {
  uint64_t seed = 900;
  for (const Case& c : kCases) {
    const std::string cfg = c.cfg;
    CAPTURE(cfg);
    CAPTURE(c.in.str());
    compare_paths(c, seed += 10);
  }
}

TEST_CASE("conv dnnl: oneDNN takes every conv shape above (the comparison cannot pass vacuously)" *
          doctest::skip(!ops::dnnl_built())) {
  ops::DnnlConv conv;
  const ops::ConvShape shapes[] = {
      {2, 3, 33, 30, 8, 7, 7, 2, 2, 1, 1, 1, 1, 1},
      {2, 16, 8, 8, 12, 1, 1, 2, 2, 0, 0, 1, 1, 1},   // negative bottom/right padding for oneDNN
      {1, 4, 11, 10, 6, 3, 3, 1, 1, 1, 1, 2, 2, 1},
      {2, 8, 7, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 4},
      {6, 8, 14, 14, 16, 2, 2, 2, 2, 0, 0, 1, 1, 1},  // a 2x2/2 deconv's adjoint
  };
  for (const ops::ConvShape& s : shapes) CHECK(conv.supports(s));
}

TEST_CASE("conv dnnl: MABDET_CONV picks the default path") {
  // Set by the environment once per process; the suite runs with it unset or as the CI sets it.
  const char* v = std::getenv("MABDET_CONV");
  const std::string s = v ? v : "";
  const ConvPath want = s == "reference" || !ops::dnnl_built() ? ConvPath::Reference
                        : s == "dnnl"                          ? ConvPath::Dnnl
                                                               : ConvPath::Auto;
  CHECK(default_conv_path() == want);
  CHECK(Context{}.conv == want);
}
