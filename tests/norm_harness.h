// NormHarness: a Norm wrapped as a GradCheck over its input and params (tests/gradcheck.h), plus
// norm_from_cfg to build a norm the way a conv does, through a Scope over parsed cfg text.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "mabdet/cfg.h"
#include "mabdet/norm.h"

namespace mabdet::test {

struct NormHarness {
  std::unique_ptr<Norm> norm;
  Context ctx;
  Tensor x, dx, y, dy;
  GradCheck g;
  // x uniform in [-1, 1] (then x * x_scale + x_shift); params uniform in [-1, 1].
  NormHarness(std::unique_ptr<Norm> n, Shape s, uint64_t seed, bool train = true, float x_scale = 1.f, float x_shift = 0.f)
      : norm(std::move(n)), x(s), dx(s), y(s), dy(s) {
    ctx.train = train;
    Rng rng(seed);
    fill_uniform(x, rng);
    for (size_t i = 0; i < x.size(); ++i) x[i] = x[i] * x_scale + x_shift;
    dx.zero();
    norm->reshape(s);
    g.out = &y;
    g.dout = &dy;
    g.forward = [this] { norm->forward(ctx, x, y); };
    g.backward = [this] { norm->backward(ctx, x, dy, dx, true); };
    g.probes.push_back({"x", &x, &dx});
    for (auto& p : norm->params()) {
      fill_uniform(*p.value, rng);
      p.grad->zero();
      g.probes.push_back({p.name, p.value, p.grad});
    }
    g.state = norm->state();
  }
  // The named state tensor (running stats, buffers); fails the test if absent.
  Tensor& state_tensor(const std::string& name) {
    for (auto& s : norm->state())
      if (s.name == name && s.tensor) return *s.tensor;
    FAIL("no state tensor " << name);
    throw;
  }
  int64_t& state_counter(const std::string& name) {
    for (auto& s : norm->state())
      if (s.name == name && s.counter) return *s.counter;
    FAIL("no state counter " << name);
    throw;
  }
  Tensor& param(const std::string& name, bool grad = false) {
    for (auto& p : norm->params())
      if (p.name == name) return grad ? *p.grad : *p.value;
    FAIL("no param " << name);
    throw;
  }
};

// Runs `check` and then puts back the state, params' grads, y, dy and dx it found, so that what
// a test checks after check_gradients sees what it saw before.
template <class F>
void leaving_harness_as_found(NormHarness& h, F check) {
  StateSnapshot snap(h.norm->state());
  std::vector<Tensor> grads;
  for (Param& p : h.norm->params()) grads.push_back(p.grad->clone());
  Tensor y = h.y.clone(), dy = h.dy.clone(), dx = h.dx.clone();
  check();
  snap.restore();
  size_t k = 0;
  for (Param& p : h.norm->params()) p.grad->copy_from(grads[k++]);
  h.y.copy_from(y);
  h.dy.copy_from(dy);
  h.dx.copy_from(dx);
}

// backward with accumulate=false writes exactly what accumulate=true adds to zeros, into a dx
// full of garbage and into dy itself (what NormAct relies on to keep one transient buffer).
inline void check_overwrite_mode(NormHarness& h) {
  leaving_harness_as_found(h, [&] {
    h.norm->forward(h.ctx, h.x, h.y);
    Rng rng(5);
    fill_uniform(h.dy, rng);
    Tensor added(h.x.shape()), over(h.x.shape()), inplace = h.dy.clone();
    added.zero();
    over.fill(7.f);
    h.norm->backward(h.ctx, h.x, h.dy, added, true);
    h.norm->backward(h.ctx, h.x, h.dy, over, false);
    h.norm->backward(h.ctx, h.x, inplace, inplace, false);
    for (size_t i = 0; i < added.size(); ++i) {
      if (over[i] != added[i]) FAIL_CHECK("dx[" << i << "] overwritten " << over[i] << ", added " << added[i]);
      if (inplace[i] != added[i]) FAIL_CHECK("dx[" << i << "] in place on dy " << inplace[i] << ", added " << added[i]);
    }
  });
}

// The forward in place (y = x) gives exactly the values of the forward into another buffer, from
// the same state (a training forward advances the statistics, so the state is restored between).
inline void check_forward_in_place(NormHarness& h) {
  leaving_harness_as_found(h, [&] {
    StateSnapshot before(h.norm->state());
    h.norm->forward(h.ctx, h.x, h.y);
    before.restore();
    Tensor t = h.x.clone();
    h.norm->forward(h.ctx, t, t);
    for (size_t i = 0; i < t.size(); ++i)
      if (t[i] != h.y[i]) FAIL_CHECK("y[" << i << "] in place " << t[i] << " vs " << h.y[i]);
  });
}

// The finite-difference check and the backward-adds check of h in its current mode, then the
// overwrite and in-place forms of its passes.
inline void check_gradients(NormHarness& h) {
  CHECK(gradcheck(h.g, 1) < 1e-2);
  check_backward_adds(h.g, 2);
  check_overwrite_mode(h);
  check_forward_in_place(h);
}

// The inference forward of h's x is the per-channel map inference_affine reports.
inline void check_inference_affine(NormHarness& h) {
  h.ctx.train = false;
  h.norm->forward(h.ctx, h.x, h.y);
  Tensor scale, shift;
  REQUIRE(h.norm->inference_affine(scale, shift));
  const Shape& s = h.x.shape();
  for (size_t i = 0; i < h.x.size(); ++i) {
    const int c = int(i / s.plane()) % s.c;
    CHECK(h.y[i] == doctest::Approx(h.x[i] * scale[c] + shift[c]).epsilon(1e-5));
  }
}

// Parses cfg text and builds the norm of its LAST section, with the first section as [net] when
// there are two or more (so keys fall back to [net] as in a real network).
inline std::unique_ptr<Norm> norm_from_cfg(const std::string& text, int channels) {
  std::vector<Section> secs = parse_cfg_text(text, "t.cfg");
  const Section* net = secs.size() > 1 ? &secs[0] : nullptr;
  return make_norm(Scope{secs.back(), net}, channels);
}

}  // namespace mabdet::test
