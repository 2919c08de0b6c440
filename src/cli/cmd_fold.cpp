// mabdet fold CFG WEIGHTS OUT.weights [OUT.cfg]: the network with every affine norm folded into its
// conv (mabdet/fold.h); OUT.cfg defaults to OUT.weights with the extension .cfg.
#include <cstdio>

#include "cli/commands.h"
#include "mabdet/cfg_net.h"
#include "mabdet/fold.h"
#include "mabdet/weights.h"

namespace mabdet::cli {

int fold(const Args& a) {
  if (a.size() != 3 && a.size() != 4) fail("usage: mabdet fold CFG WEIGHTS OUT.weights [OUT.cfg]");
  std::string out_cfg = a.size() == 4 ? a[3] : a[2];
  if (a.size() == 3) {
    const size_t dot = out_cfg.rfind('.'), slash = out_cfg.rfind('/');
    if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) out_cfg.resize(dot);
    out_cfg += ".cfg";
  }
  if (out_cfg == a[0]) fail("fold: OUT.cfg ", out_cfg, " would overwrite the source cfg");
  LoadedNet n = load_cfg_net(a[0]);
  load_weights(a[1], *n.net, nullptr);
  const std::vector<size_t> folded = fold_network(a[0], *n.net, out_cfg, a[2]);
  std::printf("folded %zu layers: %s + %s\n", folded.size(), out_cfg.c_str(), a[2].c_str());
  return 0;
}

}  // namespace mabdet::cli
