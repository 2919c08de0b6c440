// The single table of norms: `norm=` picks a row; each factory reads its own keys. Every key is
// read through the Scope, so a layer's section overrides [net]:
//   norm=none|bn|sync_bn|frozen_bn|gn|brn|mabn   (default none; sync_bn: bn over all data-parallel ranks)
//   norm_eps=1e-5          > 0, added to every variance (bn, frozen_bn, gn, brn, mabn)
//   norm_momentum          weight of the OLD value: running = m*running + (1-m)*batch, in [0, 1);
//                          default 0.9 for bn, sync_bn and brn (PyTorch's momentum 0.1), 0.98 for mabn
//   gn_groups=32           must divide the channels
//   brn_rmax=3 brn_dmax=5  final clip limits of r (>= 1) and d (>= 0)
//   brn_ramp_start=500 brn_ramp_end=4000   optimizer iterations over which r_max ramps 1 -> brn_rmax
//                          and d_max 0 -> brn_dmax linearly (Ioffe 2017's 5k..40k scaled down 10x)
//   mabn_buffer=16         m, iterations in MABN's moving averages (simulated batch / real batch)
//   mabn_warmup=100        MABN training forwards that use batch statistics only
//   mabn_sync_stats=0      1: the statistics entering MABN's moving averages are over all
//                          data-parallel ranks' values (default: per rank, the paper's MABN)
//   bias=1                 norm=none only: a learnable bias (the conv passes its default)
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
    {"sync_bn", make_sync_bn_norm},
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
