#include <doctest/doctest.h>

#include "fixture.h"
#include "norm_harness.h"

using namespace mabdet;

namespace {
// Loads a non-trivial frozen state, as a pretrained checkpoint would.
void load_state(test::NormHarness& h) {
  test::set_from(h.state_tensor("norm.gamma"), {1.5, -0.5, 0.25});
  test::set_from(h.state_tensor("norm.beta"), {0.1, 2.0, -1.0});
  test::set_from(h.state_tensor("norm.running_mean"), {0.3, -0.2, 4.0});
  test::set_from(h.state_tensor("norm.running_var"), {2.0, 0.1, 9.0});
}
}  // namespace

TEST_CASE("norm=frozen_bn: no params; gradients check and accumulate in training and inference") {
  for (bool train : {true, false}) {
    CAPTURE(train);
    test::NormHarness h(test::norm_from_cfg("[convolutional]\nnorm=frozen_bn\n", 3), Shape{2, 3, 2, 3}, 4, train, 3.f);
    CHECK(h.norm->params().empty());
    load_state(h);
    test::check_gradients(h);
  }
}

TEST_CASE("norm=frozen_bn: a fixed affine map, the same in training, equal to inference_affine") {
  test::NormHarness h(test::norm_from_cfg("[convolutional]\nnorm=frozen_bn\nnorm_eps=0.001\n", 3), Shape{2, 3, 2, 2}, 6, true);
  // Fresh: the identity (running_var starts at 1 - eps).
  h.norm->forward(h.ctx, h.x, h.y);
  for (size_t i = 0; i < h.x.size(); ++i) CHECK(h.y[i] == doctest::Approx(h.x[i]).epsilon(1e-6));
  load_state(h);
  h.norm->forward(h.ctx, h.x, h.y);
  Tensor y_train = h.y.clone();
  h.ctx.train = false;
  h.norm->forward(h.ctx, h.x, h.y);
  Tensor scale, shift;
  REQUIRE(h.norm->inference_affine(scale, shift));
  const double g[] = {1.5, -0.5, 0.25}, b[] = {0.1, 2.0, -1.0}, m[] = {0.3, -0.2, 4.0}, v[] = {2.0, 0.1, 9.0};
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 4; ++i) {
        const float x = h.x.at(n, c, i / 2, i % 2), y = h.y.at(n, c, i / 2, i % 2);
        CHECK(y == y_train.at(n, c, i / 2, i % 2));
        CHECK(y == doctest::Approx(x * scale[c] + shift[c]).epsilon(1e-6));
        CHECK(y == doctest::Approx(g[c] * (x - m[c]) / std::sqrt(v[c] + 1e-3) + b[c]).epsilon(1e-5));
      }
  // Training forwards leave the state alone.
  CHECK(h.state_tensor("norm.running_var")[0] == 2.f);
}
