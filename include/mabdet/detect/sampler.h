// Balanced sampler: a fixed-size batch of one image's labelled predictions with at most a given
// fraction of positives (Detectron2 subsample_labels, torchvision BalancedPositiveNegativeSampler):
// num_pos = min(#positives, int(batch * fraction)), num_neg = min(#negatives, batch - num_pos), each
// drawn uniformly without replacement. Draws come from the caller's mabdet::Rng, so a seed
// reproduces the batch (the peers use torch.randperm, whose stream we do not reproduce).
#pragma once
#include "mabdet/rng.h"
#include "mabdet/tensor.h"

namespace mabdet::detect {

struct BalancedSampler {
  int batch_per_image = 256;      // RPN 256, box head 512
  double positive_fraction = 0.5;  // RPN 0.5, box head 0.25 (double: int(512 * 0.7) as Python rounds it)
  // labels equal to bg_label are negatives, -1 are ignored, anything else is positive. The RPN's
  // labels are 1 / 0 / -1 (bg_label 0); the box head's are class ids with background = num_classes.
  int bg_label = 0;

  // pos (P, 1) and neg (Q, 1): the chosen indices into labels (N, 1), each ascending.
  void sample(const IndexTensor& labels, Rng& rng, IndexTensor& pos, IndexTensor& neg) const;
};

}  // namespace mabdet::detect
