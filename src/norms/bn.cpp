// norm=bn: BatchNorm (Ioffe & Szegedy 2015) with PyTorch's conventions: training normalizes by the
// batch mean and biased variance and updates the running mean and the UNBIASED running variance;
// inference uses the running statistics. The backward is the exact gradient through the batch
// statistics. This is the norm that breaks at 1-2 images per GPU, kept as the baseline.
#include "norms/batch_stats.h"

namespace mabdet {
namespace {
class BatchNorm : public norm_detail::BatchStatsNorm {
 public:
  using BatchStatsNorm::BatchStatsNorm;
  std::string name() const override { return "bn"; }
};
}  // namespace

std::unique_ptr<Norm> make_bn_norm(const Scope& cfg, int channels, bool) {
  norm_detail::require_channels(channels, "bn");
  return std::make_unique<BatchNorm>(channels, norm_detail::read_eps(cfg), norm_detail::read_momentum(cfg, 0.9f));
}

}  // namespace mabdet
