// A cfg's network built the way the command that runs it would build it: a detector cfg through
// Detector (which reads its [net] augmentation keys first), any other through Network.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "mabdet/cfg.h"
#include "mabdet/detector.h"
#include "mabdet/network.h"

namespace mabdet {

struct LoadedNet {
  std::optional<Detector> det;
  std::unique_ptr<Network> plain;
  Network* net = nullptr;
};

inline LoadedNet load_cfg_net(const std::string& cfg) {
  LoadedNet n;
  bool detector = false;
  for (const Section& s : parse_cfg(cfg)) detector = detector || s.type() == "rpn";
  if (detector) {
    n.det = Detector::from_file(cfg);
    n.net = &n.det->net();
  } else {
    n.plain = std::make_unique<Network>(Network::from_file(cfg));
    n.net = n.plain.get();
  }
  return n;
}

}  // namespace mabdet
