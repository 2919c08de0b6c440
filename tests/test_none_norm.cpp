#include <doctest/doctest.h>

#include "gradcheck.h"
#include "mabdet/norm.h"

using namespace mabdet;

namespace {
// Wraps a Norm as a GradCheck over its input and params.
struct NormHarness {
  std::unique_ptr<Norm> norm;
  Context ctx;
  Tensor x, dx, y, dy;
  test::GradCheck g;
  NormHarness(std::unique_ptr<Norm> n, Shape s, uint64_t seed) : norm(std::move(n)), x(s), dx(s), y(s), dy(s) {
    Rng rng(seed);
    test::fill_uniform(x, rng);
    norm->reshape(s);
    g.out = &y;
    g.dout = &dy;
    g.forward = [this] { norm->forward(ctx, x, y); };
    g.backward = [this] { norm->backward(ctx, x, y, dy, dx); };
    g.probes.push_back({"x", &x, &dx});
    for (auto& p : norm->params()) {
      test::fill_uniform(*p.value, rng);
      g.probes.push_back({p.name, p.value, p.grad});
    }
    g.state = norm->state();
  }
};
}  // namespace

TEST_CASE("norm=none adds a bias, gradients check and accumulate") {
  Section sec("convolutional", "t.cfg", 1);
  NormHarness h(make_norm("none", Scope{sec, nullptr}, 3), Shape{2, 3, 4, 5}, 11);
  CHECK(test::gradcheck(h.g, 1) < 1e-2);
  test::check_backward_adds(h.g, 2);
}
