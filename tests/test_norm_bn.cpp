#include <doctest/doctest.h>

#include "fixture.h"
#include "norm_fixture.h"

using namespace mabdet;
using test::get;

TEST_CASE("norm=bn: gradients check and accumulate, training and inference") {
  for (bool train : {true, false}) {
    CAPTURE(train);
    test::NormHarness h(test::norm_from_cfg("[net]\nnorm=bn\n[convolutional]\n", 3), Shape{2, 3, 3, 2}, 5, train, 2.f, 0.5f);
    if (!train) {  // inference statistics away from the defaults so they matter
      h.state_tensor("norm.running_mean").fill(0.3f);
      h.state_tensor("norm.running_var").fill(2.5f);
    }
    test::check_gradients(h);
  }
}

// Replays tests/fixtures/bn.txt (scripts/fixtures/bn_gn_reference.py): one training step then
// inference with the updated running statistics, against torch.nn.functional.batch_norm.
TEST_CASE("norm=bn matches torch.nn.functional.batch_norm") {
  const test::Fixture f = test::load_fixture("bn.txt");
  test::NormHarness h(test::norm_from_cfg("[convolutional]\nnorm=bn\n", 3), Shape{2, 3, 2, 2}, 1, true);
  test::set_from(h.x, get(f, "x"));
  test::set_affine_from(h, f);
  test::set_from(h.dy, get(f, "dy"));
  test::set_from(h.state_tensor("norm.running_mean"), get(f, "running_mean0"));
  test::set_from(h.state_tensor("norm.running_var"), get(f, "running_var0"));
  for (const char* mode : {"", "_eval"}) {
    CAPTURE(mode);
    h.ctx.train = std::string(mode).empty();
    test::check_fixture_step(h, f, "", mode);
    if (h.ctx.train) {
      test::check_close("running_mean", h.state_tensor("norm.running_mean"), get(f, "running_mean"));
      test::check_close("running_var", h.state_tensor("norm.running_var"), get(f, "running_var"));
    }
  }
}

TEST_CASE("norm=bn: inference_affine equals the inference forward") {
  test::NormHarness h(test::norm_from_cfg("[convolutional]\nnorm=bn\nnorm_momentum=0.5\n", 4), Shape{2, 4, 3, 3}, 9, true, 3.f, 1.f);
  h.norm->forward(h.ctx, h.x, h.y);  // moves the running statistics off their defaults
  test::check_inference_affine(h);
}

TEST_CASE("norm=bn: norm_momentum is the weight of the old running value") {
  test::NormHarness h(test::norm_from_cfg("[net]\nnorm_momentum=0.75\n[convolutional]\nnorm=bn\n", 1), Shape{1, 1, 2, 1}, 3, true);
  h.x[0] = 1.f;
  h.x[1] = 3.f;  // mean 2, unbiased variance 2
  h.norm->forward(h.ctx, h.x, h.y);
  CHECK(h.state_tensor("norm.running_mean")[0] == doctest::Approx(0.75 * 0 + 0.25 * 2));
  CHECK(h.state_tensor("norm.running_var")[0] == doctest::Approx(0.75 * 1 + 0.25 * 2));
}
