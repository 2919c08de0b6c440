// Norm folding for inference: every weighted layer whose norm is an affine map at inference (bn,
// frozen_bn, brn, mabn; a plain bias) gets that map multiplied into its weights (centred first
// where centralize=1) and becomes norm=none with a bias, so the folded network does no norm work.
#pragma once
#include <string>
#include <vector>

#include "mabdet/network.h"

namespace mabdet {

// The text of cfg file `cfg` with each listed layer's section (layer index i = section i + 1) set
// to norm=none (centralize=0 on [convolutional]) and its norm keys dropped, and [net]'s norm keys
// dropped too when no layer left unfolded takes its norm from [net]; all else is kept as it is.
std::string folded_cfg_text(const std::string& cfg, const std::vector<size_t>& layers);

// Folds `net` (built from `cfg`, weights loaded) into out_cfg + out_weights (written atomically;
// no optimizer state). Returns the indices of the folded layers.
std::vector<size_t> fold_network(const std::string& cfg, Network& net, const std::string& out_cfg,
                                 const std::string& out_weights);

}  // namespace mabdet
