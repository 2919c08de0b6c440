// Fresh input gradients (InputGrads::fresh): a layer that writes_fresh_grads() overwrites a fresh
// din[k] instead of adding into it, so the network skips zeroing it. Checked against the adding
// path: a fresh gradient poisoned with NaN must come out exactly equal to what adding into a zeroed
// one gives, on every conv path; and a network whose layers are handed fresh gradients must give
// the same gradients as before (an input read by two layers gets one write, then one add).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "layer_util.h"
#include "mabdet/network.h"
#include "network_gradcheck.h"
#include "ops/conv_dnnl.h"

using namespace mabdet;
using namespace mabdet::test;
using namespace mabdet::layer_test;

namespace {
// din[0] (and din[1]) after one backward, fresh or zeroed-and-added.
std::vector<Tensor> input_grads(Layer& l, const std::vector<Tensor*>& xs, ConvPath path, bool fresh) {
  Context ctx;
  ctx.train = true;
  ctx.conv = path;
  std::vector<Shape> shapes;
  for (Tensor* x : xs) shapes.push_back(x->shape());
  Tensor y(l.reshape(shapes));
  Inputs in;
  for (Tensor* x : xs) in.push_back(x);
  l.run_forward(ctx, in, y);
  Tensor dy = random_tensor(y.shape(), 31);
  std::vector<Tensor> dx;
  for (Tensor* x : xs) dx.emplace_back(x->shape());
  InputGrads din;
  for (Tensor& t : dx) {
    if (fresh) t.fill(std::numeric_limits<float>::quiet_NaN());
    else t.zero();
    din.push_back(&t);
    din.fresh_at.push_back(fresh);
  }
  l.run_backward(ctx, in, y, dy, din);
  return dx;
}

void check_fresh_equals_added(const std::string& cfg, const std::vector<Shape>& shapes, ConvPath path) {
  CAPTURE(cfg);
  std::vector<Tensor> xs;
  for (size_t i = 0; i < shapes.size(); ++i) xs.push_back(random_tensor(shapes[i], 11 + i));
  std::vector<Tensor*> ptrs;
  for (Tensor& x : xs) ptrs.push_back(&x);
  auto a = build_layer(cfg, shapes), b = build_layer(cfg, shapes);
  REQUIRE(a->writes_fresh_grads());
  const std::vector<Tensor> added = input_grads(*a, ptrs, path, false), written = input_grads(*b, ptrs, path, true);
  for (size_t k = 0; k < added.size(); ++k)
    for (size_t i = 0; i < added[k].size(); ++i) {
      REQUIRE(std::isfinite(written[k][i]));
      REQUIRE(written[k][i] == added[k][i]);
    }
}
}  // namespace

TEST_CASE("fresh grads: conv and shortcut overwrite a fresh input gradient, equal to adding into zeros") {
  const char* convs[] = {
      "[convolutional]\nfilters=8\nsize=3\npad=1\nactivation=relu\n",
      "[convolutional]\nfilters=16\nsize=1\nstride=2\n",
      "[convolutional]\nfilters=16\nsize=1\n",
      "[convolutional]\nfilters=8\nsize=3\ngroups=2\npad=1\ncentralize=1\nbias=0\n",
  };
  for (const char* c : convs)
    for (ConvPath p : {ConvPath::Reference, ConvPath::Dnnl}) {
      if (p == ConvPath::Dnnl && !ops::dnnl_built()) continue;
      check_fresh_equals_added(c, {{2, 8, 14, 14}}, p);
    }
  const Shape s{2, 3, 5, 4};
  check_fresh_equals_added("[shortcut]\n", {s, s}, ConvPath::Reference);
  check_fresh_equals_added("[shortcut]\nactivation=leaky\n", {s, s, s}, ConvPath::Reference);
}

TEST_CASE("fresh grads: network gradients with shared inputs match finite differences") {
  // The stem's output is read by a conv and by a shortcut (its gradient is written by the one that
  // runs backward first and added to by the other); the second shortcut reads one input twice (so
  // it is never handed it fresh and adds both); the 1x1 conv writes the gradient of its input. The
  // gradcheck's repeated backwards reuse pooled gradients that still hold the last values, so a
  // fresh gradient that were not fully written would show.
  const char* cfg = R"([net]
batch=2
width=6
height=6
channels=3
seed=3
[convolutional]
filters=4
size=3
pad=1
activation=logistic
[convolutional]
filters=4
size=3
pad=1
activation=linear
[shortcut]
from=-2
activation=logistic
[shortcut]
from=-1
[convolutional]
filters=4
size=1
activation=logistic
[avgpool]
[connected]
output=3
[softmax]
)";
  Network net(parse_cfg_text(cfg, "fresh.cfg"));
  Tensor x(2, 3, 6, 6);
  Rng rng(5);
  fill_uniform(x, rng);
  IndexTensor labels(2, 1);
  labels[0] = 1;
  labels[1] = 2;
  CHECK(network_gradcheck(net, x, labels, 9, 12) < 1e-2);
}
