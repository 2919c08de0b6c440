// One step of a norm replayed against a PyTorch fixture (tests/fixture.h): forward, then backward
// from zeroed gradients, with y, dx, dgamma and dbeta compared to the fixture's entries named
// prefix + name + suffix. The caller sets x, dy and the mode, and checks any state.
#pragma once
#include <string>
#include <vector>

#include "fixture.h"
#include "norm_harness.h"

namespace mabdet::test {
// gamma and beta from the fixture's prefix + "gamma" and prefix + "beta".
inline void set_affine_from(NormHarness& h, const Fixture& f, const std::string& prefix = "") {
  set_from(h.param("norm.gamma"), get(f, prefix + "gamma"));
  set_from(h.param("norm.beta"), get(f, prefix + "beta"));
}

inline void check_fixture_step(NormHarness& h, const Fixture& f, const std::string& prefix,
                               const std::string& suffix = "") {
  h.dx.zero();
  h.param("norm.gamma", true).zero();
  h.param("norm.beta", true).zero();
  h.norm->forward(h.ctx, h.x, h.y);
  h.norm->backward(h.ctx, h.x, h.dy, h.dx, true);
  auto want = [&](const char* name) -> const std::vector<double>& { return get(f, prefix + name + suffix); };
  check_close("y", h.y, want("y"));
  check_close("dx", h.dx, want("dx"));
  check_close("dgamma", h.param("norm.gamma", true), want("dgamma"));
  check_close("dbeta", h.param("norm.beta", true), want("dbeta"));
}
}  // namespace mabdet::test
