// Finite-difference gradient checking for any layer or norm (Caffe-style): loss
// L = sum(r_i * out_i) with fixed random r, accumulated in double; sampled coordinates; every saved
// state (running stats, MABN buffers, counters) restored before each evaluation, so training-mode
// forwards that advance state are judged from the same starting point. Error per coordinate is
// |a - n| / max(|a|, |n|, 1). Coordinates where the left and right one-sided differences disagree
// sit on a kink (ReLU at 0, maxpool ties) and are skipped; a check that skips most of them fails.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "mabdet/layer.h"
#include "mabdet/rng.h"

namespace mabdet::test {

struct GradProbe {
  std::string name;
  Tensor* value;
  Tensor* grad;  // where backward adds dL/dvalue
};

struct GradCheck {
  std::function<void()> forward;   // recomputes *out from the current values
  std::function<void()> backward;  // reads *dout, adds into every probe's grad
  Tensor* out = nullptr;
  Tensor* dout = nullptr;
  std::vector<GradProbe> probes;
  std::vector<State> state;
};

inline void fill_uniform(Tensor& t, Rng& rng, float lo = -1.f, float hi = 1.f) {
  for (size_t i = 0; i < t.size(); ++i) t[i] = float(rng.uniform(lo, hi));
}

// Snapshot of every State entry, restorable any number of times.
class StateSnapshot {
 public:
  explicit StateSnapshot(const std::vector<State>& s) : state_(s) {
    for (const State& e : s) {
      if (e.tensor) tensors_.push_back(e.tensor->clone());
      else counters_.push_back(*e.counter);
    }
  }
  void restore() const {
    size_t ti = 0, ci = 0;
    for (const State& e : state_) {
      if (e.tensor) e.tensor->copy_from(tensors_[ti++]);
      else *e.counter = counters_[ci++];
    }
  }

 private:
  std::vector<State> state_;
  std::vector<Tensor> tensors_;
  std::vector<int64_t> counters_;
};

inline double weighted_loss(const Tensor& out, const std::vector<double>& r) {
  double l = 0;
  for (size_t i = 0; i < out.size(); ++i) l += r[i] * out[i];
  return l;
}

// Runs forward + backward from the snapshot with all probe grads zeroed; returns the loss.
inline double analytic(GradCheck& g, const StateSnapshot& snap, const std::vector<double>& r) {
  snap.restore();
  for (auto& p : g.probes) p.grad->zero();
  g.forward();
  g.dout->reshape(g.out->shape());
  for (size_t i = 0; i < r.size(); ++i) (*g.dout)[i] = float(r[i]);
  g.backward();
  return weighted_loss(*g.out, r);
}

// Draws the loss weights r (one forward sizes the output) and runs analytic() with them.
inline std::vector<double> analytic_random_loss(GradCheck& g, const StateSnapshot& snap, Rng& rng) {
  g.forward();
  std::vector<double> r(g.out->size());
  for (double& v : r) v = rng.uniform(-1, 1);
  analytic(g, snap, r);
  return r;
}

// How many sampled coordinates of one probe were compared, and how many skipped as kinks.
struct ProbeCount {
  std::string name;
  int sampled = 0, checked = 0;
};

// Why a check that skipped too much proves nothing ("" when enough was compared): every probe
// needs at least half its sampled coordinates off kinks, or a broken backward could hide behind
// a layer whose inputs all sit on ReLU zeros or maxpool ties.
inline std::string too_few_checked(const std::vector<ProbeCount>& counts) {
  for (const ProbeCount& c : counts)
    if (2 * c.checked < c.sampled)
      return c.name + ": only " + std::to_string(c.checked) + " of " + std::to_string(c.sampled) +
             " sampled coordinates were checked, the rest sat on kinks; move the inputs off them";
  return "";
}

// Compares sampled coordinates of every probe (FAIL_CHECK on each error > tol), skipping kinks;
// fills `counts`, returns the worst error. gradcheck() below also judges the counts.
inline double gradcheck_compare(GradCheck& g, uint64_t seed, int samples, float eps, double tol,
                                std::vector<ProbeCount>& counts) {
  Rng rng(seed);
  StateSnapshot snap(g.state);
  const std::vector<double> r = analytic_random_loss(g, snap, rng);
  std::vector<Tensor> grads;
  for (auto& p : g.probes) grads.push_back(p.grad->clone());

  auto loss_at = [&](float* x, float v) {
    float keep = *x;
    *x = v;
    snap.restore();
    g.forward();
    *x = keep;
    return weighted_loss(*g.out, r);
  };
  double worst = 0;
  counts.clear();
  for (size_t pi = 0; pi < g.probes.size(); ++pi) {
    Tensor& val = *g.probes[pi].value;
    ProbeCount& count = counts.emplace_back(ProbeCount{g.probes[pi].name});
    int n = int(std::min<size_t>(val.size(), size_t(samples)));
    for (int k = 0; k < n; ++k) {
      size_t j = val.size() <= size_t(samples) ? size_t(k) : size_t(rng.randint(int(val.size())));
      float x0 = val[j];
      double lp = loss_at(&val[j], x0 + eps), lm = loss_at(&val[j], x0 - eps), l0 = loss_at(&val[j], x0);
      double right = (lp - l0) / eps, left = (l0 - lm) / eps;
      ++count.sampled;
      if (std::fabs(right - left) > std::max(1.0, std::fabs(right) + std::fabs(left)) * 0.5) continue;  // kink
      ++count.checked;
      double num = (lp - lm) / (2.0 * eps), ana = grads[pi][j];
      double err = std::fabs(ana - num) / std::max({std::fabs(ana), std::fabs(num), 1.0});
      worst = std::max(worst, err);
      if (err > tol)
        FAIL_CHECK(g.probes[pi].name << "[" << j << "]: analytic " << ana << " numeric " << num << " err " << err);
    }
  }
  snap.restore();
  return worst;
}

// gradcheck_compare(), then throws (failing the calling test case with the message) when
// too_few_checked() says the kinks left too little compared.
inline double gradcheck(GradCheck& g, uint64_t seed, int samples = 24, float eps = 1e-2f, double tol = 1e-2) {
  std::vector<ProbeCount> counts;
  const double worst = gradcheck_compare(g, seed, samples, eps, tol, counts);
  const std::string few = too_few_checked(counts);
  if (!few.empty()) throw std::runtime_error("gradcheck: " + few);
  return worst;
}

// Backward must ADD into gradients: starting from random grads R, grads after one backward must
// equal R + (grads from zero).
inline void check_backward_adds(GradCheck& g, uint64_t seed) {
  Rng rng(seed);
  StateSnapshot snap(g.state);
  const std::vector<double> r = analytic_random_loss(g, snap, rng);
  std::vector<Tensor> from_zero, start;
  for (auto& p : g.probes) from_zero.push_back(p.grad->clone());
  snap.restore();
  for (auto& p : g.probes) {
    fill_uniform(*p.grad, rng);
    start.push_back(p.grad->clone());
  }
  g.forward();
  for (size_t i = 0; i < r.size(); ++i) (*g.dout)[i] = float(r[i]);
  g.backward();
  for (size_t pi = 0; pi < g.probes.size(); ++pi)
    for (size_t j = 0; j < start[pi].size(); ++j) {
      float want = start[pi][j] + from_zero[pi][j], got = (*g.probes[pi].grad)[j];
      if (std::fabs(want - got) > 1e-4f * std::max(1.f, std::fabs(want))) {
        FAIL_CHECK(g.probes[pi].name << "[" << j << "]: backward overwrote instead of adding: " << got << " vs " << want);
        break;
      }
    }
  snap.restore();
}

// Builds a GradCheck for a Layer with the given inputs (all probed) and its params.
struct LayerHarness {
  Layer& layer;
  Context ctx;
  std::vector<Tensor> inputs, input_grads;
  Tensor out, dout;
  GradCheck g;

  LayerHarness(Layer& l, std::vector<Tensor> in, bool train, uint64_t seed = 7) : layer(l), inputs(std::move(in)) {
    ctx.train = train;
    ctx.rng.seed_with(seed);
    std::vector<Shape> shapes;
    for (auto& t : inputs) {
      shapes.push_back(t.shape());
      input_grads.emplace_back(t.shape());
    }
    out.reshape(layer.reshape(shapes));
    dout.reshape(out.shape());
    g.out = &out;
    g.dout = &dout;
    g.forward = [this] {
      Inputs in;
      for (auto& t : inputs) in.push_back(&t);
      layer.forward(ctx, in, out);
    };
    g.backward = [this] {
      Inputs in;
      InputGrads din;
      for (size_t i = 0; i < inputs.size(); ++i) {
        in.push_back(&inputs[i]);
        din.push_back(&input_grads[i]);
      }
      layer.backward(ctx, in, out, dout, din);
    };
    for (size_t i = 0; i < inputs.size(); ++i) g.probes.push_back({"input" + std::to_string(i), &inputs[i], &input_grads[i]});
    for (auto& p : layer.params()) g.probes.push_back({p.name, p.value, p.grad});
    g.state = layer.state();
  }
};

}  // namespace mabdet::test
