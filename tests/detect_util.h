// Helpers for the detection op tests: tensors from tests/fixtures/detect/ entries and comparisons
// that report the worst difference (run the suite with -s to see each one's value).
#pragma once
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "fixture.h"

namespace mabdet::test {

inline Fixture detect_fixture(const std::string& name) { return load_fixture("detect/" + name + ".txt"); }

// (values / cols, cols) float tensor.
inline Tensor rows_from(const std::vector<double>& v, int cols) {
  REQUIRE(v.size() % size_t(cols) == 0);
  Tensor t(int(v.size() / cols), cols);
  set_from(t, v);
  return t;
}
inline IndexTensor index_from(const std::vector<double>& v) {
  IndexTensor t(int(v.size()), 1);
  for (size_t i = 0; i < v.size(); ++i) t[i] = int32_t(v[i]);
  return t;
}
inline std::vector<double> values(const IndexTensor& t) { return std::vector<double>(t.data(), t.data() + t.size()); }

// max |got - want| / max(|want|, floor); infinite when sizes differ, a NaN counts as infinite.
inline double worst_diff(const float* got, size_t n, const std::vector<double>& want, double floor = 1.0) {
  if (n != want.size()) return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < n; ++i) {
    const double e = std::fabs(double(got[i]) - want[i]) / std::max(std::fabs(want[i]), floor);
    worst = e <= worst ? worst : (e == e ? e : INFINITY);
  }
  return worst;
}
inline double worst_diff(const Tensor& got, const std::vector<double>& want, double floor = 1.0) {
  return worst_diff(got.data(), got.size(), want, floor);
}

// Every value equal to the fixture's rounded to float (fixtures hold float32 values in 9 digits).
inline bool equal_f32(const Tensor& got, const std::vector<double>& want) {
  if (got.size() != want.size()) return false;
  for (size_t i = 0; i < want.size(); ++i)
    if (got[i] != float(want[i])) {
      INFO("first difference at [", i, "]: got ", got[i], " want ", float(want[i]));
      CHECK(got[i] == float(want[i]));
      return false;
    }
  return true;
}

}  // namespace mabdet::test
