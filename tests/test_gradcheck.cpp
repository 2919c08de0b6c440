// The gradient checker itself: kinks are skipped but counted, and a check that compared (almost)
// nothing must fail rather than pass vacuously.
#include <doctest/doctest.h>

#include <cmath>

#include "gradcheck.h"

using namespace mabdet;
using namespace mabdet::test;

namespace {
// out = k * |x| elementwise (a V-shaped kink at 0, steep enough that the one-sided differences
// always disagree there) or out = x^2 (smooth), with their exact derivatives.
struct Toy {
  Tensor x{1, 1, 4, 6}, dx{1, 1, 4, 6}, out, dout;
  bool v_shape;
  GradCheck g;

  Toy(bool v, float offset) : v_shape(v) {
    for (size_t i = 0; i < x.size(); ++i) x[i] = offset;
    g.out = &out;
    g.dout = &dout;
    g.forward = [this] {
      out.reshape(x.shape());
      for (size_t i = 0; i < x.size(); ++i) out[i] = v_shape ? 1000.f * std::fabs(x[i]) : x[i] * x[i];
    };
    g.backward = [this] {
      for (size_t i = 0; i < x.size(); ++i) {
        float d = v_shape ? (x[i] > 0 ? 1000.f : x[i] < 0 ? -1000.f : 0.f) : 2.f * x[i];
        dx[i] += d * dout[i];
      }
    };
    g.probes.push_back({"x", &x, &dx});
  }
};
}  // namespace

TEST_CASE("gradcheck: kink coordinates are counted as skipped, smooth ones as checked") {
  std::vector<ProbeCount> counts;
  Toy kinks(true, 0.f);  // every coordinate sits on the kink
  CHECK(gradcheck_compare(kinks.g, 3, 24, 1e-2f, 1e-2, counts) == 0);
  REQUIRE(counts.size() == 1);
  CHECK(counts[0].sampled == 24);
  CHECK(counts[0].checked == 0);
  const std::string why = too_few_checked(counts);
  CHECK(why.find("x: only 0 of 24 sampled coordinates were checked") == 0);

  Toy smooth(false, 0.5f);
  CHECK(gradcheck_compare(smooth.g, 3, 24, 1e-2f, 1e-2, counts) < 1e-3);
  CHECK(counts[0].checked == 24);
  CHECK(too_few_checked(counts).empty());

  // The verdict's threshold: half the samples checked is enough, fewer is not.
  CHECK(too_few_checked({{"a", 24, 24}, {"b", 10, 5}}).empty());
  CHECK(too_few_checked({{"a", 24, 24}, {"b", 10, 4}}).find("b: only 4 of 10") == 0);
  CHECK(too_few_checked({{"empty", 0, 0}}).empty());  // a probe with no values samples nothing
}

// End to end: gradcheck() on a function whose every sampled coordinate is a kink must fail (it
// throws, so the calling test case fails with the message) instead of passing vacuously.
TEST_CASE("gradcheck: a check that met only kinks fails") {
  Toy kinks(true, 0.f);
  CHECK_THROWS_WITH_AS(gradcheck(kinks.g, 3),
                       "gradcheck: x: only 0 of 24 sampled coordinates were checked, the rest sat on kinks; "
                       "move the inputs off them",
                       std::runtime_error);
  Toy smooth(false, 0.5f);
  CHECK(gradcheck(smooth.g, 3) < 1e-3);
}
