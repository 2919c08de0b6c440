#include "mabdet/fold.h"

#include <fstream>
#include <set>
#include <sstream>

#include "mabdet/atomic_write.h"
#include "mabdet/cfg.h"
#include "mabdet/cfg_net.h"
#include "mabdet/error.h"
#include "mabdet/weights.h"

namespace mabdet {
namespace {

// Every key a norm reads from a layer's section (docs/norms.md); a folded layer has none of them.
const std::set<std::string> kNormKeys = {"norm", "centralize", "bias", "norm_eps", "norm_momentum", "gn_groups",
                                         "brn_rmax", "brn_dmax", "brn_ramp_start", "brn_ramp_end", "mabn_buffer",
                                         "mabn_warmup"};

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

}  // namespace

std::string folded_cfg_text(const std::string& cfg, const std::vector<size_t>& layers) {
  std::ifstream in(cfg);
  if (!in) fail(cfg, ": cannot open");
  const std::set<size_t> fold(layers.begin(), layers.end());
  // [net]'s norm keys stay while a layer left unfolded still takes its norm from there (a
  // [normalization] section, a conv without a bias); otherwise nothing would read them, an error.
  bool net_norm_used = false;
  const std::vector<Section> sections = parse_cfg(cfg);
  for (size_t k = 1; k < sections.size(); ++k) {
    const std::string& t = sections[k].type();
    if (!fold.count(k - 1) && !sections[k].has("norm") &&
        (t == "convolutional" || t == "deconvolutional" || t == "normalization"))
      net_norm_used = true;
  }
  std::ostringstream out;
  std::string line;
  long section = -1;  // [net] is section 0, layer i is section i + 1
  bool folding = false;
  while (std::getline(in, line)) {
    const std::string t = trim(line);
    if (!t.empty() && t[0] == '[') {
      ++section;
      folding = section > 0 && fold.count(size_t(section - 1));
      out << line << "\n";
      if (folding) {
        out << "norm=none\n";
        if (t.rfind("[convolutional]", 0) == 0) out << "centralize=0\n";
      }
      continue;
    }
    const size_t eq = t.find('=');
    const bool drop = folding || (section == 0 && !net_norm_used);
    if (drop && !t.empty() && t[0] != '#' && t[0] != ';' && eq != std::string::npos && kNormKeys.count(trim(t.substr(0, eq))))
      continue;
    out << line << "\n";
  }
  return out.str();
}

std::vector<size_t> fold_network(const std::string& cfg, Network& net, const std::string& out_cfg,
                                 const std::string& out_weights) {
  std::vector<size_t> folded;
  std::vector<std::pair<Tensor, Tensor>> values(net.size());
  for (size_t i = 0; i < net.size(); ++i)
    if (net.layer(i).fold_norm(values[i].first, values[i].second)) folded.push_back(i);
  const std::string text = folded_cfg_text(cfg, folded);
  write_atomically(out_cfg, [&](const std::string& tmp) {
    std::ofstream o(tmp);
    o << text;
    o.close();
    if (!o) fail(tmp, ": write failed");
  });
  LoadedNet out = load_cfg_net(out_cfg);
  Network& dst = *out.net;
  MABDET_ASSERT(dst.size() == net.size(), "fold: ", out_cfg, " has ", dst.size(), " layers, ", cfg, " ", net.size());
  for (size_t i = 0; i < net.size(); ++i) {
    std::vector<Param> to = dst.saved_params(i);
    if (!values[i].first.size()) {  // unchanged: every param and state entry as it was
      std::vector<Param> from = net.saved_params(i);
      std::vector<State> sfrom = net.saved_state(i), sto = dst.saved_state(i);
      MABDET_ASSERT(from.size() == to.size() && sfrom.size() == sto.size(), "fold: layer ", i, " changed its entries");
      for (size_t k = 0; k < from.size(); ++k) to[k].value->copy_from(*from[k].value);
      for (size_t k = 0; k < sfrom.size(); ++k) {
        if (sfrom[k].tensor) sto[k].tensor->copy_from(*sfrom[k].tensor);
        else *sto[k].counter = *sfrom[k].counter;
      }
      continue;
    }
    for (Param& p : to) {
      const Tensor& v = p.name == "weights" ? values[i].first : values[i].second;
      MABDET_ASSERT((p.name == "weights" || p.name == "norm.bias") && p.value->size() == v.size(), "fold: layer ", i,
                    " entry ", p.name);
      p.value->copy_from(v);
    }
  }
  save_weights(out_weights, dst, Progress{}, nullptr);
  return folded;
}

}  // namespace mabdet
