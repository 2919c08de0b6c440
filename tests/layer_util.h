// Helpers for the layer tests: build a layer from cfg text through the registry (so the tests see
// exactly what the Network will), load PyTorch fixtures (scripts/fixtures/layers_reference.py), and
// compare tensors printing the first values and the max difference on mismatch.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "layers/registry.h"
#include "mabdet/cfg.h"

// Own namespace: other test headers (tests/fixture.h on main) define inline helpers of the same
// names in mabdet::test, and two inline definitions of one signature would silently merge at link.
namespace mabdet::layer_test {
using namespace mabdet::test;

// Builds the last section of `text` (an optional [net] first supplies inherited keys) and rejects
// keys nothing read, as the Network does.
inline std::unique_ptr<Layer> build_layer(const std::string& text, const std::vector<Shape>& in, uint64_t seed = 1) {
  std::vector<Section> secs = parse_cfg_text(text, "t.cfg");
  const Section* net = secs.size() > 1 && secs.front().type() == "net" ? &secs.front() : nullptr;
  const Section& sec = secs.back();
  const LayerType* t = find_layer_type(sec.type());
  if (!t) fail("no layer type '", sec.type(), "'");
  Rng rng(seed);
  std::unique_ptr<Layer> layer = t->make(Scope{sec, net}, in, rng);
  sec.check_unused();
  return layer;
}

// The message a cfg error produces ("" when building succeeds).
inline std::string build_error(const std::string& text, const std::vector<Shape>& in) {
  try {
    build_layer(text, in);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

inline Tensor random_tensor(Shape s, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t(s);
  Rng rng(seed);
  fill_uniform(t, rng, lo, hi);
  return t;
}

inline Param find_param(Layer& l, const std::string& name) {
  for (Param& p : l.params())
    if (p.name == name) return p;
  fail("layer has no param '", name, "'");
}

// The finite-difference check and the backward-adds check, in training mode, of `l` fed x alone.
inline void check_grads(Layer& l, Tensor x, uint64_t seed, uint64_t ctx_seed = 7) {
  std::vector<Tensor> xs;
  xs.push_back(std::move(x));
  LayerHarness h(l, std::move(xs), true, ctx_seed);
  CHECK(gradcheck(h.g, seed) < 1e-2);
  check_backward_adds(h.g, seed + 1);
}

// check_grads on a freshly built layer with random inputs and random norm params (a zero bias
// would hide a missing bias gradient term).
inline void check_layer_grads(const std::string& cfg, Shape in, uint64_t seed) {
  std::unique_ptr<Layer> l = build_layer(cfg, {in}, seed);
  Rng rng(seed + 2);
  for (Param& p : l->params())
    if (p.name != "weights") fill_uniform(*p.value, rng);
  check_grads(*l, random_tensor(in, seed + 1), seed + 3, seed);
}

// Arrays of one fixture file, by name.
inline std::map<std::string, Tensor> load_fixture(const std::string& name) {
  const std::string path = "tests/fixtures/" + name + ".txt";
  std::ifstream f(path);
  if (!f) fail(path, ": cannot open (run the tests from the repository root)");
  std::map<std::string, Tensor> out;
  std::string header, values;
  while (std::getline(f, header) && std::getline(f, values)) {
    std::istringstream hs(header), vs(values);
    std::string key;
    Shape s;
    if (!(hs >> key >> s.n >> s.c >> s.h >> s.w)) fail(path, ": bad header '", header, "'");
    Tensor t(s);
    for (size_t i = 0; i < t.size(); ++i)
      if (!(vs >> t[i])) fail(path, ": ", key, ": expected ", t.size(), " values");
    out.emplace(key, std::move(t));
  }
  return out;
}

// CHECKs |got - want| <= atol + rtol*|want| everywhere; on failure prints shapes, first values and max diff.
inline void check_close(const std::string& what, const Tensor& got, const Tensor& want, double atol = 1e-4,
                        double rtol = 1e-4) {
  if (got.size() != want.size()) {
    FAIL_CHECK(what << ": " << got.shape().str() << " vs expected " << want.shape().str());
    return;
  }
  double worst = 0;
  size_t at = 0;
  bool bad = false;
  for (size_t i = 0; i < got.size(); ++i) {
    double d = std::fabs(double(got[i]) - want[i]);
    if (!(d <= atol + rtol * std::fabs(want[i]))) bad = true;
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  if (bad) {
    std::ostringstream os;
    os << what << ": max diff " << worst << " at " << at << " (got " << got[at] << ", want " << want[at] << ")\n  got : ";
    for (size_t i = 0; i < std::min<size_t>(6, got.size()); ++i) os << got[i] << " ";
    os << "\n  want: ";
    for (size_t i = 0; i < std::min<size_t>(6, want.size()); ++i) os << want[i] << " ";
    FAIL_CHECK(os.str());
  }
}

// Forward (training) of fixture f's x and backward of its gy from zeroed param grads, checking y
// and dx against its y and gx within tol (absolute and relative); the param grads are left for the
// caller to check.
inline void check_fixture_pass(Layer& l, std::map<std::string, Tensor>& f, const std::string& name,
                               double y_tol = 1e-4, double dx_tol = 1e-4) {
  Tensor& x = f.at("x");
  Context ctx;
  ctx.train = true;
  Tensor y(l.reshape({x.shape()}));
  l.forward(ctx, {&x}, y);
  check_close(name + " y", y, f.at("y"), y_tol, y_tol);
  Tensor dx(x.shape());
  dx.zero();
  for (Param& p : l.params()) p.grad->zero();
  l.backward(ctx, {&x}, y, f.at("gy"), {&dx});
  check_close(name + " dx", dx, f.at("gx"), dx_tol, dx_tol);
}

}  // namespace mabdet::layer_test
