#include <doctest/doctest.h>

#include <cstdio>

#include "gradcheck.h"
#include "network_gradcheck.h"
#include "mabdet/network.h"
#include "mabdet/sgd.h"
#include "test_util.h"

using namespace mabdet;
using mabdet::test::error_of;

namespace {
const char* kNet = R"([net]
batch=4
subdivisions=2
width=6
height=6
channels=3
seed=3
max_batches=10
[convolutional]
name=stem
filters=4
size=3
pad=1
activation=leaky
[convolutional]
filters=4
size=3
stride=2
pad=1
activation=relu
[connected]
from=-1
output=5
[softmax]
)";

Network net_from(const std::string& text) { return Network(parse_cfg_text(text, "n.cfg")); }

std::string build_error(const std::string& text) {
  return error_of([&] { net_from(text); });
}
}  // namespace

TEST_CASE("network builds from cfg text and runs forward") {
  Network net = net_from(kNet);
  REQUIRE(net.size() == 4);
  CHECK(net.config().sub_batch() == 2);
  CHECK(net.output(0).shape() == Shape{2, 4, 6, 6});
  CHECK(net.output(1).shape() == Shape{2, 4, 3, 3});
  CHECK(net.output().shape() == Shape{2, 5, 1, 1});
  Tensor x(3, 3, 6, 6);  // a different batch size reshapes every buffer
  Rng rng(1);
  test::fill_uniform(x, rng);
  Context ctx;
  const Tensor& p = net.forward(ctx, x);
  CHECK(p.shape() == Shape{3, 5, 1, 1});
  for (int i = 0; i < 3; ++i) {
    double s = 0;
    for (int c = 0; c < 5; ++c) s += p.at(i, c);
    CHECK(s == doctest::Approx(1.0).epsilon(1e-5));
  }
  std::FILE* f = std::tmpfile();
  net.print_table(f);
  std::fclose(f);
}

TEST_CASE("network cfg errors name file, line and what is allowed") {
  CHECK(build_error("[convolutional]\n").find("n.cfg:1 [convolutional]: the first section must be [net]") == 0);
  CHECK(build_error("[net]\nwidth=4\nheight=4\n[conv]\n").find("n.cfg:4 [conv]: unknown section type; allowed: [net] first, then") == 0);
  CHECK(build_error("[net]\nwidth=4\nheight=4\n[connected]\noutput=2\nfrom=-3\n") ==
        "n.cfg:6 [connected] from=-3: '-3' points to layer -3; a layer can only read layers 0..-1 or input");
  CHECK(build_error("[net]\nwidth=4\nheight=4\n[connected]\noutput=2\n[connected]\noutput=2\nfrom=head\n") ==
        "n.cfg:8 [connected] from=head: no earlier layer has name=head");
  CHECK(build_error("[net]\nwidth=4\nheight=4\nbatch=3\nsubdivisions=2\n[connected]\noutput=2\n") ==
        "n.cfg:5 [net] subdivisions=2: must divide batch=3");
  CHECK(build_error("[net]\nwidth=4\nheight=4\nlearning_rat=0.1\n[connected]\noutput=2\n")
            .find("n.cfg:4 [net] learning_rat=0.1: unknown or unused key; keys read here: batch, subdivisions, width") == 0);
  CHECK(build_error("[net]\nwidth=4\nheight=4\n[connected]\noutput=2\nfilters=3\n")
            .find("n.cfg:6 [connected] filters=3: unknown or unused key") == 0);
  CHECK(build_error("[net]\nwidth=4\n[connected]\noutput=2\n") == "n.cfg:1 [net]: missing required key 'height'");
  CHECK(build_error("[net]\nwidth=4\nheight=4\n") == "n.cfg:1 [net]: the cfg has no layers after [net]");
}

TEST_CASE("references by name and absolute index resolve to the same layer") {
  std::string by_name = std::string(kNet).replace(std::string(kNet).find("from=-1"), 7, "from=stem");
  Network a = net_from(by_name);
  CHECK(a.inputs(2) == std::vector<int>{0});
  std::string absolute = std::string(kNet).replace(std::string(kNet).find("from=-1"), 7, "from=1");
  CHECK(net_from(absolute).inputs(2) == std::vector<int>{1});
}

TEST_CASE("whole-network gradient: backward through every layer matches finite differences") {
  Network net = net_from(kNet);
  Tensor x(2, 3, 6, 6);
  Rng rng(5);
  test::fill_uniform(x, rng);
  IndexTensor labels(2, 1);
  labels[0] = 1;
  labels[1] = 4;
  CHECK(test::network_gradcheck(net, x, labels, 9, 12) < 1e-2);
}

TEST_CASE("learning rate schedule: burn_in ramp then steps") {
  NetConfig c;
  c.learning_rate = 0.1f;
  c.burn_in = 10;
  c.power = 1;
  c.policy = "steps";
  c.steps = {20, 30};
  c.scales = {0.1f, 0.5f};
  CHECK(learning_rate_at(c, 0) == doctest::Approx(0.01));
  CHECK(learning_rate_at(c, 9) == doctest::Approx(0.1));
  CHECK(learning_rate_at(c, 19) == doctest::Approx(0.1));
  CHECK(learning_rate_at(c, 20) == doctest::Approx(0.01));
  CHECK(learning_rate_at(c, 35) == doctest::Approx(0.005));
}

TEST_CASE("SGD: momentum, weight decay with per-param multipliers") {
  Tensor w(1, 2), g(1, 2), b(1, 1), gb(1, 1);
  w[0] = 1;
  w[1] = -2;
  b[0] = 3;
  Sgd sgd({{"w", &w, &g, 1.f, 1.f}, {"b", &b, &gb, 2.f, 0.f}}, 0.9f, 0.1f);
  g[0] = 0.5f;
  g[1] = 0;
  gb[0] = 1;
  sgd.step(0.1f);
  CHECK(w[0] == doctest::Approx(1 - 0.1 * (0.5 + 0.1 * 1)));
  CHECK(w[1] == doctest::Approx(-2 - 0.1 * (0.1 * -2)));
  CHECK(b[0] == doctest::Approx(3 - 0.2 * 1));  // lr_mult 2, no decay
  g[0] = 0;
  g[1] = 0;
  gb[0] = 0;
  sgd.step(0.1f);  // momentum alone carries the bias on
  CHECK(b[0] == doctest::Approx(3 - 0.2 - 0.2 * 0.9));
}

TEST_CASE("set_sum_outputs: backward differentiates the sum of the named outputs") {
  // Two convs without norm, b reading a. Summing b alone, each of b's biases gets one per output
  // value (2 x 4 x 5); summing a too adds the same count to each of a's biases, on top of what
  // flows back to them through b.
  Network net = net_from(
      "[net]\nbatch=2\nwidth=5\nheight=4\nchannels=1\n"
      "[convolutional]\nname=a\nfilters=2\nsize=1\nnorm=none\n"
      "[convolutional]\nname=b\nfilters=3\nsize=3\npad=1\nnorm=none\n");
  Tensor x(2, 1, 4, 5);
  Rng rng(3);
  test::fill_uniform(x, rng);
  Context ctx;
  ctx.train = true;
  auto bias_grads = [&](std::vector<size_t> summed) {
    net.forward(ctx, x);
    net.set_sum_outputs(summed);
    net.zero_grads();
    net.backward(ctx);
    std::vector<std::vector<float>> g;
    for (const Param& p : net.params())
      if (p.name.find("bias") != std::string::npos) g.emplace_back(p.grad->data(), p.grad->data() + p.grad->size());
    return g;
  };
  const auto only_b = bias_grads({1}), both = bias_grads({0, 1});
  REQUIRE(only_b.size() == 2);
  REQUIRE(only_b[1].size() == 3);
  for (float v : only_b[1]) CHECK(v == doctest::Approx(40.0));
  for (size_t f = 0; f < 2; ++f) {
    CHECK(only_b[0][f] != doctest::Approx(0.0));  // through b
    CHECK(both[0][f] - only_b[0][f] == doctest::Approx(40.0));
  }
  CHECK(both[1] == only_b[1]);
}
