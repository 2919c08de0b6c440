#include <doctest/doctest.h>

#include "fixture.h"
#include "norm_fixture.h"

using namespace mabdet;
using test::get;

// With m = 1 and r = 1 the MABN backward is the exact gradient of y = gamma x / sqrt(E[x^2]+eps) + beta
// (MABN.md), so finite differences apply: in warm-up (t = 1) and past it (t = 500, still r = 1 and
// the one-row buffer holds this iteration's statistic).
TEST_CASE("norm=mabn with buffer 1 and r = 1: gradients check and accumulate") {
  for (int64_t t0 : {0, 499}) {
    CAPTURE(t0);
    test::NormHarness h(test::norm_from_cfg("[net]\nnorm=mabn\nmabn_buffer=1\n[convolutional]\n", 3), Shape{2, 3, 3, 2}, 5,
                        true, 2.f, 0.5f);
    h.state_counter("norm.t") = t0;
    test::check_gradients(h);
  }
}

TEST_CASE("norm=mabn inference: gradients check and accumulate; inference_affine equals the forward") {
  test::NormHarness h(test::norm_from_cfg("[convolutional]\nnorm=mabn\n", 3), Shape{2, 3, 2, 2}, 8, false, 2.f);
  test::set_from(h.state_tensor("norm.running_var"), {0.5, 2.0, 7.0});
  test::check_gradients(h);
  test::check_inference_affine(h);
  CHECK(h.norm->default_centralize());
}

// Replays tests/fixtures/mabn.txt (scripts/fixtures/mabn_reference.py, a PyTorch autograd.Function
// written from MABN.md): sequences of training forward+backward across the end of batch-only mode
// and across t = 1000 where r starts being clamped to [1/5, 5], then an inference step.
TEST_CASE("norm=mabn replays the MABN.md reference sequence") {
  const test::Fixture f = test::load_fixture("mabn.txt");
  // The fixture must exercise r's clamp at both ends (a regenerated fixture that does not is useless).
  bool hi = false, lo = false;
  for (int k = 0; k < int(get(f, "B.steps")[0]); ++k)
    for (double r : get(f, "B." + std::to_string(k) + ".r")) {
      hi |= r == 5.0;
      lo |= std::fabs(r - 0.2) < 1e-12;
    }
  CHECK(hi);
  CHECK(lo);
  for (const std::string tag : {"A", "B", "C"}) {
    CAPTURE(tag);
    const int m = int(get(f, tag + ".m")[0]), warmup = int(get(f, tag + ".warmup")[0]), steps = int(get(f, tag + ".steps")[0]);
    test::NormHarness h(test::norm_from_cfg(cat("[net]\nnorm=mabn\nmabn_buffer=", m, "\nmabn_warmup=", warmup,
                                                "\n[convolutional]\n"), 3),
                        Shape{2, 3, 2, 2}, 1, true);
    test::set_affine_from(h, f, tag + ".");
    h.state_counter("norm.t") = int64_t(get(f, tag + ".t0")[0]);
    test::set_from(h.state_tensor("norm.running_var"), get(f, tag + ".running_var0"));
    test::set_from(h.state_tensor("norm.buf_x2"), get(f, tag + ".buf_x20"));
    test::set_from(h.state_tensor("norm.buf_gz"), get(f, tag + ".buf_gz0"));
    for (int k = 0; k <= steps; ++k) {
      const std::string p = k < steps ? cat(tag, ".", k, ".") : tag + ".eval.";
      CAPTURE(p);
      h.ctx.train = k < steps;
      test::set_from(h.x, get(f, p + "x"));
      test::set_from(h.dy, get(f, p + "dy"));
      test::check_fixture_step(h, f, p);
      if (k < steps) {
        CHECK(h.state_counter("norm.t") == int64_t(get(f, p + "t")[0]));
        test::check_close("running_var", h.state_tensor("norm.running_var"), get(f, p + "running_var"));
        test::check_close("buf_x2", h.state_tensor("norm.buf_x2"), get(f, p + "buf_x2"));
        test::check_close("buf_gz", h.state_tensor("norm.buf_gz"), get(f, p + "buf_gz"));
      }
    }
  }
}

TEST_CASE("norm=mabn: keys, defaults and errors") {
  auto n = test::norm_from_cfg("[convolutional]\nnorm=mabn\n", 4);
  std::vector<State> st = n->state();
  REQUIRE(st.size() == 4);
  CHECK(st[1].tensor->shape() == Shape{16, 4, 1, 1});  // mabn_buffer default 16
  CHECK(*st[3].counter == 0);
  CHECK((*st[0].tensor)[0] == 1.f);  // running_var starts at 1
  for (auto& p : n->params()) CHECK(p.decay_mult == 0.f);
  CHECK_THROWS_WITH_AS(test::norm_from_cfg("[convolutional]\nnorm=mabn\nmabn_buffer=0\n", 4),
                       doctest::Contains("t.cfg:3 [convolutional] mabn_buffer=0"), Error);
  CHECK_THROWS_WITH_AS(test::norm_from_cfg("[net]\nmabn_warmup=ten\n[convolutional]\nnorm=mabn\n", 4),
                       doctest::Contains("t.cfg:2 [net] mabn_warmup=ten: expected an integer"), Error);
  CHECK_THROWS_WITH_AS(test::norm_from_cfg("[convolutional]\nnorm=mabn\nnorm_momentum=1\n", 4),
                       doctest::Contains("t.cfg:3 [convolutional] norm_momentum=1"), Error);
}
