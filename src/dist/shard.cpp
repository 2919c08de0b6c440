#include "mabdet/shard.h"

#include "mabdet/cfg.h"

namespace mabdet {

ShardPlan shard_plan(const NetConfig& c, const Comm* comm) {
  ShardPlan p;
  p.ranks = comm_size(comm);
  p.rank = comm_rank(comm);
  p.sub_batch = c.sub_batch();
  if (c.subdivisions % p.ranks != 0)
    fail("[net] subdivisions=", c.subdivisions, " is not a multiple of the ", p.ranks,
         " ranks: each rank runs subdivisions/ranks sub-batches of batch/subdivisions images (here ", c.sub_batch(),
         "); set subdivisions to ", p.ranks, " x (sub-batches per rank) and batch to subdivisions x (images per "
         "normalization)");
  p.subdivisions = c.subdivisions / p.ranks;
  p.first_sub = p.rank * p.subdivisions;
  return p;
}

std::string shard_line(const NetConfig& c, const ShardPlan& p, const Comm* comm, bool sync_bn) {
  std::string s = cat(p.ranks, p.ranks == 1 ? " rank" : " ranks", p.ranks > 1 ? cat(" (", comm->backend(), ")") : "",
                      ": batch ", c.batch, " images per step = ", p.images_per_rank(), " per rank (",
                      p.subdivisions, p.subdivisions == 1 ? " sub-batch" : " sub-batches", " of ", p.sub_batch,
                      "); images per normalization: ", p.sub_batch);
  if (p.ranks > 1) s += sync_bn ? cat(" (", p.sub_batch * p.ranks, " in sync_bn layers, over the ranks)") : " per rank";
  return s;
}

bool cfg_uses_norm(const std::string& cfg_path, const std::string& norm) {
  for (const Section& sec : parse_cfg(cfg_path))
    if (sec.has("norm") && sec.get_str("norm", "") == norm) return true;
  return false;
}

}  // namespace mabdet
