#include "mabdet/detect/sampler.h"

#include <algorithm>
#include <vector>

#include "detect/check.h"

namespace mabdet::detect {
namespace {

// k of the candidates drawn uniformly without replacement (a partial Fisher-Yates shuffle), ascending.
void draw(std::vector<int32_t>& cand, int k, Rng& rng, IndexTensor& out) {
  for (int i = 0; i < k; ++i) std::swap(cand[i], cand[i + rng.randint(int(cand.size()) - i)]);
  std::sort(cand.begin(), cand.begin() + k);
  out.reshape(k, 1);
  std::copy(cand.begin(), cand.begin() + k, out.data());
}

}  // namespace

void BalancedSampler::sample(const IndexTensor& labels, Rng& rng, IndexTensor& pos, IndexTensor& neg) const {
  require_rows("BalancedSampler::sample", "labels", labels, 1);
  MABDET_ASSERT(batch_per_image >= 0 && positive_fraction >= 0 && positive_fraction <= 1,
                "BalancedSampler: batch ", batch_per_image, " fraction ", positive_fraction);
  std::vector<int32_t> p, n;
  for (int i = 0; i < labels.n(); ++i) {
    if (labels[i] == bg_label) n.push_back(i);
    else if (labels[i] != -1) p.push_back(i);
  }
  const int num_pos = std::min(int(p.size()), int(batch_per_image * positive_fraction));
  const int num_neg = std::min(int(n.size()), batch_per_image - num_pos);
  draw(p, num_pos, rng, pos);
  draw(n, num_neg, rng, neg);
}

}  // namespace mabdet::detect
