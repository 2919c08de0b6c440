// mabdet init CFG OUT.weights: the network as the cfg builds it (seeded init, fresh statistics),
// at step 0 with the rng stream a fresh run of the cfg starts with.
// mabdet layout CFG: what a weights file for CFG holds, one line per entry, so that converters
// (scripts/convert_torchvision.py) can map foreign tensors onto it with their shapes checked.
#include <cstdio>

#include "cli/commands.h"
#include "mabdet/cfg_net.h"
#include "mabdet/weights.h"

namespace mabdet::cli {

int init(const Args& a) {
  if (a.size() != 2) fail("usage: mabdet init CFG OUT.weights");
  LoadedNet n = load_cfg_net(a[0]);
  // The stream a fresh run starts with (the cfg's seed, data position 0), so that a run given this
  // file (classifier train CFG DATA W, or train ... W) is the fresh run from these weights; an
  // all-zero rng state would be a generator stuck at zero.
  Progress p;
  p.has_stream = true;
  Rng rng(n.net->config().seed);
  for (int k = 0; k < 4; ++k) p.rng[k] = rng.state()[k];
  save_weights(a[1], *n.net, p, nullptr);
  std::printf("weights: %s (%zu layers, freshly initialized)\n", a[1].c_str(), n.net->size());
  return 0;
}

// Tab-separated: layer index, type, name= (or -), entry kind (P param, S state tensor, C counter,
// - for a layer without entries), entry name, shape NxCxHxW (- for a counter). Entries come in the
// order the weights file stores them.
int layout(const Args& a) {
  if (a.size() != 1) fail("usage: mabdet layout CFG");
  LoadedNet n = load_cfg_net(a[0]);
  Network& net = *n.net;
  for (size_t i = 0; i < net.size(); ++i) {
    const std::string type = net.layer(i).type();
    const char* name = net.name(i).empty() ? "-" : net.name(i).c_str();
    auto params = net.saved_params(i);
    auto state = net.saved_state(i);
    if (params.empty() && state.empty()) std::printf("%zu\t%s\t%s\t-\t-\t-\n", i, type.c_str(), name);
    for (const Param& p : params)
      std::printf("%zu\t%s\t%s\tP\t%s\t%s\n", i, type.c_str(), name, p.name.c_str(), p.value->shape().str().c_str());
    for (const State& s : state)
      std::printf("%zu\t%s\t%s\t%c\t%s\t%s\n", i, type.c_str(), name, s.tensor ? 'S' : 'C', s.name.c_str(),
                  s.tensor ? s.tensor->shape().str().c_str() : "-");
  }
  return 0;
}

}  // namespace mabdet::cli
