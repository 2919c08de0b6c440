// How one optimizer step spreads over data-parallel ranks. `batch` stays the images of a step
// over all ranks and batch/subdivisions the images of one forward (a sub-batch), so a cfg means
// the same step and the same normalization batch on any number of ranks: the step's
// `subdivisions` sub-batches are dealt out in order, rank r taking the contiguous run
// [r * subdivisions/ranks, (r+1) * subdivisions/ranks). Those are the very images one process
// would run in those sub-batches, and the summed gradients are the one process's (to float
// summation order), since every rank scales its loss by 1/batch.
#pragma once
#include <string>

#include "mabdet/comm.h"
#include "mabdet/network.h"

namespace mabdet {

struct ShardPlan {
  int ranks = 1, rank = 0;
  int subdivisions = 1;  // sub-batches this rank runs per step
  int first_sub = 0;     // the step's sub-batch index of this rank's first one
  int sub_batch = 1;     // images per sub-batch, as in one process
  int images_per_rank() const { return subdivisions * sub_batch; }
};

// Fails (naming the cfg keys) when the ranks do not divide subdivisions.
ShardPlan shard_plan(const NetConfig& c, const Comm* comm);
// The startup line: ranks and backend, images per step and per rank, images per normalization
// (per rank; over all ranks for sync_bn layers when `sync_bn`).
std::string shard_line(const NetConfig& c, const ShardPlan& p, const Comm* comm, bool sync_bn);
// Whether the cfg names norm=sync_bn anywhere (for the startup line).
bool cfg_uses_norm(const std::string& cfg_path, const std::string& norm);

}  // namespace mabdet
