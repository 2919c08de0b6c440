// weight_init=: he_normal (the default) and torch (PyTorch's Conv2d/Linear default), from [net] or
// per section, for every weighted layer type, with the spread each promises.
#include <doctest/doctest.h>

#include <cmath>

#include "layer_util.h"

using namespace mabdet;
using namespace mabdet::layer_test;

namespace {

struct Spread {
  double std = 0, max_abs = 0;
};

Spread spread_of(const std::string& text, const Shape& in) {
  auto l = build_layer(text, {in});
  const Tensor& w = *find_param(*l, "weights").value;
  double ss = 0, m = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    ss += double(w[i]) * w[i];
    m = std::max(m, std::fabs(double(w[i])));
  }
  return {std::sqrt(ss / double(w.size())), m};
}

}  // namespace

TEST_CASE("weight_init: he_normal has std sqrt(2/fan_in); torch is U(+-1/sqrt(fan)), std 1/sqrt(3 fan)") {
  const Shape in{1, 64, 9, 9};
  struct Case {
    const char* section;
    double fan_he, fan_torch;  // deconv: PyTorch reads the fan from the output channels
  };
  const Case cases[] = {{"[convolutional]\nfilters=64\nsize=3\nnorm=bn\n", 64 * 9, 64 * 9},
                        {"[connected]\noutput=256\n", 64 * 81, 64 * 81},
                        {"[deconvolutional]\nfilters=32\nsize=2\nstride=2\n", 64 * 4, 32 * 4}};
  for (const Case& c : cases) {
    const std::string section = c.section;
    CAPTURE(section);
    const Spread he = spread_of(c.section, in);
    CHECK(he.std == doctest::Approx(std::sqrt(2.0 / c.fan_he)).epsilon(0.03));
    for (const std::string& torch : {"[net]\nweight_init=torch\n" + std::string(c.section),
                                     std::string(c.section) + "weight_init=torch\n"}) {
      const Spread t = spread_of(torch, in);
      CHECK(t.std == doctest::Approx(1.0 / std::sqrt(3.0 * c.fan_torch)).epsilon(0.03));
      CHECK(t.max_abs <= (1.0 + 1e-6) / std::sqrt(c.fan_torch));  // float rounding at the bound
      CHECK(t.max_abs > 0.95 / std::sqrt(c.fan_torch));
    }
  }
  // A section keeps its own choice over [net]'s.
  const Spread back = spread_of("[net]\nweight_init=torch\n[convolutional]\nfilters=64\nsize=3\nweight_init=he_normal\n", in);
  CHECK(back.std == doctest::Approx(std::sqrt(2.0 / 576)).epsilon(0.03));
}

TEST_CASE("weight_init: an unknown value names the key and the choices") {
  const std::string e = build_error("[convolutional]\nfilters=4\nsize=3\nweight_init=xavier\n", {Shape{1, 2, 5, 5}});
  CHECK(e.find("weight_init") != std::string::npos);
  CHECK(e.find("he_normal") != std::string::npos);
  CHECK(e.find("torch") != std::string::npos);
}
