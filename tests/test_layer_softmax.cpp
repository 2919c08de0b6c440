#include <doctest/doctest.h>

#include <cmath>

#include "layer_util.h"
#include "mabdet/classify.h"

using namespace mabdet;
using namespace mabdet::test;
using namespace mabdet::layer_test;

namespace {
// The softmax layer's gradient is that of its loss, not of its output (the probabilities), so the
// check's output is the loss itself: out = [loss] (1x1). gradcheck weights it by a random r, which
// backward receives as dout[0]; the chain rule then says dL/dx = r * d(loss)/dx, i.e. a loss_scale
// of r * base for this backward.
struct SoftmaxCheck {
  std::unique_ptr<Layer> layer;
  Context ctx;
  Tensor x, dx, probs, loss{1, 1}, dloss{1, 1};
  IndexTensor labels;
  float base_scale;
  GradCheck g;

  SoftmaxCheck(Shape in, std::vector<int> lab, float scale, uint64_t seed)
      : layer(build_layer("[softmax]\n", {in})), x(random_tensor(in, seed, -2.f, 2.f)), dx(in), labels(in.n, 1),
        base_scale(scale) {
    for (int i = 0; i < in.n; ++i) labels[i] = lab[i];
    ctx.train = true;
    ctx.labels = &labels;
    probs.reshape(layer->reshape({in}));
    g.out = &loss;
    g.dout = &dloss;
    g.forward = [this] {
      ctx.loss_scale = base_scale;
      layer->forward(ctx, {&x}, probs);
      loss[0] = float(layer->loss());
    };
    g.backward = [this] {
      ctx.loss_scale = base_scale * dloss[0];
      layer->backward(ctx, {&x}, probs, dloss, {&dx});
    };
    g.probes.push_back({"x", &x, &dx});
  }
};
}  // namespace

TEST_CASE("softmax: cross-entropy gradient matches finite differences and backward adds") {
  SoftmaxCheck a(Shape{3, 5, 1, 1}, {0, 4, 2}, 1.f / 3, 1);
  CHECK(gradcheck(a.g, 2, 24, 1e-2f, 1e-2) < 1e-2);
  check_backward_adds(a.g, 3);
  SoftmaxCheck b(Shape{2, 2, 2, 2}, {7, 1}, 1.f, 4);  // classes = C*H*W = 8
  CHECK(gradcheck(b.g, 5, 24, 1e-2f, 1e-2) < 1e-2);
  check_backward_adds(b.g, 6);
}

TEST_CASE("softmax: probabilities, loss value, loss_scale, large logits") {
  const Shape in{2, 3, 1, 1};
  auto l = build_layer("[softmax]\n", {in});
  CHECK(l->is_loss());
  Tensor x(in), p(l->reshape({in}));
  const float xs[] = {1.f, 2.f, 3.f, 1000.f, -1000.f, 999.f};
  for (int i = 0; i < 6; ++i) x[i] = xs[i];
  IndexTensor labels(2, 1);
  labels[0] = 0;
  labels[1] = 2;
  Context ctx;
  ctx.labels = &labels;
  ctx.loss_scale = 0.5f;
  l->forward(ctx, {&x}, p);
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  CHECK(p[0] == doctest::Approx(std::exp(1.0) / z));
  CHECK(p[2] == doctest::Approx(std::exp(3.0) / z));
  CHECK(p[4] == 0.f);
  const double ce0 = std::log(z) - 1.0, ce1 = std::log(1.0 + std::exp(-1.0)) + 1.0;  // -log softmax
  CHECK(l->loss() == doctest::Approx(0.5 * (ce0 + ce1)).epsilon(1e-5));
  CHECK(top1(p) == std::vector<int>{2, 0});
  // Inference without labels: probabilities only, no loss.
  ctx.labels = nullptr;
  l->forward(ctx, {&x}, p);
  CHECK(l->loss() == 0.0);
  CHECK(p[3] == doctest::Approx(1.0 / (1.0 + std::exp(-1.0))));
}

TEST_CASE("softmax: sub-batch losses with loss_scale = 1/images add up to the step's mean CE") {
  const Shape whole{4, 6, 1, 1}, half{2, 6, 1, 1};
  Tensor x = random_tensor(whole, 3, -3.f, 3.f);
  IndexTensor labels(4, 1);
  for (int i = 0; i < 4; ++i) labels[i] = (i * 5) % 6;
  Context ctx;
  ctx.train = true;
  ctx.loss_scale = 0.25f;
  auto l = build_layer("[softmax]\n", {whole});
  Tensor p(l->reshape({whole}));
  ctx.labels = &labels;
  l->forward(ctx, {&x}, p);
  double mean_ce = 0;
  for (int i = 0; i < 4; ++i) mean_ce -= std::log(double(p.at(i, labels[i]))) / 4;
  CHECK(l->loss() == doctest::Approx(mean_ce).epsilon(1e-5));
  double sum = 0;
  for (int part = 0; part < 2; ++part) {
    Tensor xs(half), ps(l->reshape({half}));
    IndexTensor ls(2, 1);
    for (size_t i = 0; i < xs.size(); ++i) xs[i] = x[part * xs.size() + i];
    ls[0] = labels[2 * part];
    ls[1] = labels[2 * part + 1];
    ctx.labels = &ls;
    l->forward(ctx, {&xs}, ps);
    sum += l->loss();
  }
  CHECK(sum == doctest::Approx(mean_ce).epsilon(1e-5));
}

TEST_CASE("softmax: label errors") {
  const Shape in{2, 4, 1, 1};
  auto l = build_layer("[softmax]\n", {in});
  Tensor x = random_tensor(in, 1), p(l->reshape({in})), dx(in);
  IndexTensor labels(2, 1);
  labels[0] = 1;
  labels[1] = 4;
  Context ctx;
  ctx.train = true;
  CHECK_THROWS_WITH_AS(l->forward(ctx, {&x}, p), doctest::Contains("training needs labels"), Error);
  ctx.labels = &labels;
  CHECK_THROWS_WITH_AS(l->forward(ctx, {&x}, p), "softmax: label 4 of image 1 is outside [0, 4)", Error);
  labels[1] = -1;
  CHECK_THROWS_WITH_AS(l->forward(ctx, {&x}, p), doctest::Contains("label -1 of image 1"), Error);
  IndexTensor three(3, 1);
  three.fill(0);
  ctx.labels = &three;
  CHECK_THROWS_WITH_AS(l->forward(ctx, {&x}, p), "softmax: 3 labels for a batch of 2 images", Error);
  ctx.train = false;
  ctx.labels = nullptr;
  l->forward(ctx, {&x}, p);
  CHECK_THROWS_WITH_AS(l->backward(ctx, {&x}, p, p, {&dx}), doctest::Contains("backward needs the labels"), Error);
  CHECK(build_error("[softmax]\ngroups=2\n", {in}).find("groups=2: unknown or unused key") != std::string::npos);
}
