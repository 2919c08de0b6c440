// norm=sync_bn: BatchNorm whose batch is the union of every data-parallel rank's batch (the
// paper's SyncBN baseline): the forward's mean and variance and the backward's sum dy and
// sum dy * (x - mean) are summed over the ranks (norms/batch_stats.h). On one rank, or with no
// communicator at all, it is bn exactly; inference and checkpoints are bn's. Since every rank
// sees the same statistics, the running statistics stay identical on all ranks.
#include "norms/batch_stats.h"

namespace mabdet {
namespace {
class SyncBatchNorm : public norm_detail::BatchStatsNorm {
 public:
  SyncBatchNorm(int channels, float eps, float momentum) : BatchStatsNorm(channels, eps, momentum) { sync_ = true; }
  std::string name() const override { return "sync_bn"; }
};
}  // namespace

std::unique_ptr<Norm> make_sync_bn_norm(const Scope& cfg, int channels, bool) {
  norm_detail::require_channels(channels, "sync_bn");
  return std::make_unique<SyncBatchNorm>(channels, norm_detail::read_eps(cfg), norm_detail::read_momentum(cfg, 0.9f));
}

}  // namespace mabdet
