// Reference fixtures written by scripts/fixtures/*.py (PyTorch from Debian's python3): a text file
// of `name v1 v2 ...` lines ('#' starts a comment), read into name -> values. Comparisons print the
// first values and the worst difference on failure, llm.c style.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "mabdet/tensor.h"

namespace mabdet::test {

using Fixture = std::map<std::string, std::vector<double>>;

// tests/fixtures/<file>, found next to this header so the suite runs from the repository root.
inline Fixture load_fixture(const std::string& file) {
  std::string here = __FILE__;
  const std::string path = here.substr(0, here.find_last_of('/') + 1) + "fixtures/" + file;
  std::ifstream in(path);
  if (!in) fail("cannot open fixture ", path, " (regenerate with scripts/fixtures/)");
  Fixture f;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string name;
    ls >> name;
    std::vector<double> v;
    double x;
    while (ls >> x) v.push_back(x);
    f[name] = std::move(v);
  }
  return f;
}

inline const std::vector<double>& get(const Fixture& f, const std::string& name) {
  auto it = f.find(name);
  if (it == f.end()) fail("fixture has no entry '", name, "'");
  return it->second;
}

inline void set_from(Tensor& t, const std::vector<double>& v) {
  REQUIRE(t.size() == v.size());
  for (size_t i = 0; i < v.size(); ++i) t[i] = float(v[i]);
}

// |got - want| <= rtol * max(|want|, floor) elementwise; reports the worst index and the first values.
inline bool check_close(const std::string& what, const float* got, const std::vector<double>& want, double rtol = 1e-5,
                        double floor = 1.0) {
  double worst = 0;
  size_t wi = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double e = std::fabs(got[i] - want[i]) / std::max(std::fabs(want[i]), floor);
    if (!(e <= worst)) { worst = e; wi = i; }  // also catches NaN
  }
  if (!(worst <= rtol)) {
    std::ostringstream os;
    os << what << ": worst relative diff " << worst << " at [" << wi << "] got " << got[wi] << " want " << want[wi]
       << "; first values got/want:";
    for (size_t i = 0; i < std::min<size_t>(4, want.size()); ++i) os << " " << got[i] << "/" << want[i];
    FAIL_CHECK(os.str());
    return false;
  }
  return true;
}
inline bool check_close(const std::string& what, const Tensor& got, const std::vector<double>& want, double rtol = 1e-5,
                        double floor = 1.0) {
  REQUIRE(got.size() == want.size());
  return check_close(what, got.data(), want, rtol, floor);
}

}  // namespace mabdet::test
