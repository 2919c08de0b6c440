#include <doctest/doctest.h>

#include "fixture.h"
#include "norm_fixture.h"

using namespace mabdet;
using test::get;

// BRN's backward treats r and d as constants (Ioffe 2017). That is the exact gradient only where
// r and d are locally constant, i.e. clipped: there finite differences judge x, gamma and beta.
// With r and d inside their limits, y = gamma * (x - mean) / sigma + beta really depends on x only
// through the running statistics, so finite differences would see gamma/sigma and not the
// stop-gradient backward: only gamma and beta are judged by finite differences there, and x by
// the PyTorch fixture below.
TEST_CASE("norm=brn: gradients check where exact (clipped r and d, inference), accumulate always") {
  const char* cfg = "[net]\nnorm=brn\nbrn_ramp_start=0\nbrn_ramp_end=10\n[convolutional]\n";
  SUBCASE("ramp not started: r_max 1, d_max 0, exactly bn") {
    test::NormHarness h(test::norm_from_cfg(cfg, 3), Shape{2, 3, 3, 2}, 5, true, 2.f, 0.5f);
    test::check_gradients(h);
  }
  SUBCASE("past the ramp, running statistics far away: r and d clip at r_max, 1/r_max, +-d_max") {
    test::NormHarness h(test::norm_from_cfg(cfg, 3), Shape{2, 3, 3, 2}, 5, true, 2.f, 0.5f);
    h.ctx.iteration = 10;
    test::set_from(h.state_tensor("norm.running_mean"), {-30.0, 300.0, 20.0});
    test::set_from(h.state_tensor("norm.running_var"), {0.01, 100.0, 0.02});
    test::check_gradients(h);
  }
  SUBCASE("past the ramp, not clipped: gamma and beta by finite differences") {
    test::NormHarness h(test::norm_from_cfg(cfg, 3), Shape{2, 3, 3, 2}, 5, true, 2.f, 0.5f);
    h.ctx.iteration = 10;
    test::set_from(h.state_tensor("norm.running_mean"), {0.3, 0.6, 0.4});
    test::set_from(h.state_tensor("norm.running_var"), {0.8, 1.5, 2.0});
    h.g.probes.erase(h.g.probes.begin());  // x: see above
    test::check_gradients(h);
  }
  SUBCASE("inference") {
    test::NormHarness h(test::norm_from_cfg(cfg, 3), Shape{2, 3, 3, 2}, 5, false, 2.f, 0.5f);
    test::set_from(h.state_tensor("norm.running_mean"), {0.3, 0.6, 0.4});
    test::set_from(h.state_tensor("norm.running_var"), {0.8, 1.5, 2.0});
    test::check_gradients(h);
    test::check_inference_affine(h);
  }
}

// tests/fixtures/brn.txt from scripts/fixtures/brn_reference.py (Ioffe 2017 in PyTorch autograd
// with detached r, d): steps before, inside and after the ramp with r and d clipping, then inference.
TEST_CASE("norm=brn matches the Ioffe 2017 reference with active clipping and the ramp") {
  const test::Fixture f = test::load_fixture("brn.txt");
  test::NormHarness h(test::norm_from_cfg("[convolutional]\nnorm=brn\nnorm_momentum=0.99\nbrn_ramp_start=10\nbrn_ramp_end=20\n", 3),
                      Shape{2, 3, 2, 2}, 1, true);
  test::set_affine_from(h, f);
  test::set_from(h.state_tensor("norm.running_mean"), get(f, "running_mean0"));
  test::set_from(h.state_tensor("norm.running_var"), get(f, "running_var0"));
  const std::vector<double>& its = get(f, "iterations");
  bool clipped_r = false, clipped_d = false;
  for (size_t k = 0; k <= its.size(); ++k) {
    const std::string p = k < its.size() ? cat(k, ".") : "eval.";
    CAPTURE(p);
    h.ctx.train = k < its.size();
    if (h.ctx.train) {
      h.ctx.iteration = int64_t(its[k]);
      for (double r : get(f, p + "r")) clipped_r |= r == 3.0;
      for (double d : get(f, p + "d")) clipped_d |= std::fabs(d) == 5.0;
    }
    test::set_from(h.x, get(f, p + "x"));
    test::set_from(h.dy, get(f, p + "dy"));
    test::check_fixture_step(h, f, p);
    test::check_close("running_mean", h.state_tensor("norm.running_mean"), get(f, p + "running_mean"));
    test::check_close("running_var", h.state_tensor("norm.running_var"), get(f, p + "running_var"));
  }
  CHECK(clipped_r);  // the fixture exercises clipping at the final limits
  CHECK(clipped_d);
}

TEST_CASE("norm=brn: key errors") {
  CHECK_THROWS_WITH_AS(test::norm_from_cfg("[convolutional]\nnorm=brn\nbrn_rmax=0.5\n", 3), "t.cfg:3 [convolutional] brn_rmax=0.5: must be >= 1", Error);
  CHECK_THROWS_WITH_AS(test::norm_from_cfg("[net]\nbrn_ramp_start=100\nbrn_ramp_end=50\n[convolutional]\nnorm=brn\n", 3),
                       "t.cfg:3 [net] brn_ramp_end=50: must be >= brn_ramp_start (100)", Error);
  CHECK_THROWS_WITH_AS(test::norm_from_cfg("[convolutional]\nnorm=brn\nbrn_dmax=x\n", 3), "t.cfg:3 [convolutional] brn_dmax=x: expected a number", Error);
}
