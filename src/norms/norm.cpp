// The single table of norms: `norm=` picks a row; each factory reads its own keys.
#include "norms/factories.h"

namespace mabdet {
namespace {
struct NormType {
  const char* name;
  std::unique_ptr<Norm> (*make)(const Scope& cfg, int channels, bool bias_default);
};

const NormType kNorms[] = {
    {"none", make_none_norm},
    {"bn", make_bn_norm},
    {"frozen_bn", make_frozen_bn_norm},
    {"gn", make_gn_norm},
    {"brn", make_brn_norm},
    {"mabn", make_mabn_norm},
};
}  // namespace

const std::vector<std::string>& norm_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const NormType& t : kNorms) v.push_back(t.name);
    return v;
  }();
  return names;
}

std::unique_ptr<Norm> make_norm(const std::string& name, const Scope& cfg, int channels, bool bias_default) {
  for (const NormType& t : kNorms)
    if (name == t.name) return t.make(cfg, channels, bias_default);
  cfg.sec.fail_key("norm", cat("unknown norm '", name, "'"));
}

std::unique_ptr<Norm> make_norm(const Scope& cfg, int channels, bool bias_default) {
  return make_norm(cfg.get_choice("norm", "none", norm_names()), cfg, channels, bias_default);
}

}  // namespace mabdet
