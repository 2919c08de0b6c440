#include <doctest/doctest.h>

#include "fixture.h"
#include "norm_fixture.h"

using namespace mabdet;
using test::get;

TEST_CASE("norm=gn: gradients check and accumulate, training and inference alike") {
  for (bool train : {true, false}) {
    CAPTURE(train);
    test::NormHarness h(test::norm_from_cfg("[net]\nnorm=gn\ngn_groups=2\n[convolutional]\n", 6), Shape{2, 6, 2, 3}, 5, train,
                        2.f, 0.5f);
    test::check_gradients(h);
  }
}

// tests/fixtures/gn.txt from scripts/fixtures/bn_gn_reference.py (torch.nn.functional.group_norm).
TEST_CASE("norm=gn matches torch.nn.functional.group_norm; batch size and mode do not matter") {
  const test::Fixture f = test::load_fixture("gn.txt");
  test::NormHarness h(test::norm_from_cfg("[convolutional]\nnorm=gn\ngn_groups=2\n", 4), Shape{2, 4, 3, 2}, 1, true);
  test::set_from(h.x, get(f, "x"));
  test::set_affine_from(h, f);
  test::set_from(h.dy, get(f, "dy"));
  for (bool train : {true, false}) {
    CAPTURE(train);
    h.ctx.train = train;
    test::check_fixture_step(h, f, "");
  }
  // The second sample alone gives that sample's rows: per-sample statistics.
  Tensor x1(1, 4, 3, 2), y1(1, 4, 3, 2);
  for (size_t i = 0; i < x1.size(); ++i) x1[i] = h.x[x1.size() + i];
  h.norm->forward(h.ctx, x1, y1);
  std::vector<double> want(get(f, "y").begin() + x1.size(), get(f, "y").end());
  test::check_close("y of sample 1 alone", y1, want);
  Tensor scale, shift;
  CHECK_FALSE(h.norm->inference_affine(scale, shift));
}

TEST_CASE("norm=gn: gn_groups errors name file:line and key") {
  CHECK_THROWS_WITH_AS(test::norm_from_cfg("[convolutional]\nnorm=gn\ngn_groups=3\n", 16), "t.cfg:3 [convolutional] gn_groups=3: must be >= 1 and divide the layer's 16 channels (got 3)", Error);
  // The default 32 does not divide 16 either: the error names the section and the key.
  CHECK_THROWS_WITH_AS(test::norm_from_cfg("[net]\n[convolutional]\nnorm=gn\n", 16), doctest::Contains("[convolutional]: gn_groups: must be >= 1 and divide"), Error);
  CHECK_THROWS_WITH_AS(test::norm_from_cfg("[net]\ngn_groups=4.5\n[convolutional]\nnorm=gn\n", 16), "t.cfg:2 [net] gn_groups=4.5: expected an integer", Error);
  CHECK(test::norm_from_cfg("[net]\ngn_groups=4\n[convolutional]\nnorm=gn\n", 16)->name() == "gn");
}
