// The training loop shared by every job: per optimizer step, `subdivisions` sub-batches run forward
// and backward with the same weights (gradients add up, scaled to the step's mean loss), then one
// SGD update; checkpoints (weights + optimizer state + progress) are saved atomically so a run
// resumes exactly where it stopped.
// It never runs on silently: a cfg without a loss layer or trainable parameter is rejected, the
// backup folder is created and probed for writing before the first step, a NaN/Inf loss term or
// gradient stops the run (mabdet::Error naming the step and the term; no update, no checkpoint:
// the last good one stays as it was), and SIGINT/SIGTERM finish the current step, save
// NAME_last.weights and throw mabdet::Interrupted (a second signal ends the process at once).
#pragma once
#include <functional>
#include <string>

#include "mabdet/network.h"
#include "mabdet/sgd.h"
#include "mabdet/weights.h"

namespace mabdet {

// Loads sub-batch `sub` of optimizer step `step` and returns the network input; may set
// ctx.labels (or other per-batch targets). `sub` counts the step's sub-batches over all ranks:
// with ctx.comm, a rank is asked only for its own (mabdet/shard.h), in order.
using SubBatchSource = std::function<const Tensor&(int64_t step, int sub, Context& ctx)>;

struct TrainOptions {
  std::string backup_dir;      // where checkpoints go ("" = no checkpoints)
  std::string name = "net";    // checkpoint base name: NAME_last.weights, NAME_final.weights
  int save_every = 1000;       // steps between NAME_last.weights saves
  int log_every = 10;
  int64_t stop_after = -1;     // stop (with a checkpoint) after this many steps of this run (tests)
  bool quiet_log = false;      // no per-step log lines (the caller prints its own in after_step)
  // Called after every optimizer step (and its checkpoint, if one was due) with the step count,
  // the step's loss terms and its seconds; for charts, progress bars and in-process evaluation.
  // With several ranks it runs on every rank with the terms summed over them (the step's loss).
  std::function<void(int64_t steps, const std::vector<LossTerm>& terms, double seconds)> after_step;
};

// Data-parallel runs (ctx.comm with several ranks): every rank runs its shard of each step
// (shard.h), the gradients are summed over the ranks before the update (bucketed all-reduce),
// rank 0 alone logs and writes the checkpoints (every rank probes the backup folder), and the
// ranks agree on stopping (a signal on any rank stops all at the same step). Every rank resumes
// from the same checkpoint. Norm state that is not synchronized (bn's running statistics, MABN's buffers) stays
// per rank: NAME_last/_final.weights hold rank 0's (what inference uses, as PyTorch's DDP keeps
// rank 0's buffers), and rank r > 0 saves the same step with its own state beside it
// (rank_state_path), which its resume reads.

// Where rank `rank` > 0 keeps its own norm state of checkpoint `weights_path`:
// NAME.weights -> NAME.rankR.weights.
std::string rank_state_path(const std::string& weights_path, int rank);

class Trainer {
 public:
  Trainer(Network& net, Context& ctx);
  // Restores weights, state, optimizer momentum and progress from a checkpoint (rank r > 0 of a
  // data-parallel run: then its norm state from rank_state_path() when that is of the same step).
  void resume(const std::string& weights_path);
  // Trains until config().max_batches steps are done. Returns the mean loss of the last step.
  double run(const SubBatchSource& load, const TrainOptions& opt);
  const Progress& progress() const { return progress_; }
  // A checkpoint of everything a bit-identical resume needs (weights, state, momentum, progress,
  // the Context's rng and data position).
  void save(const std::string& path);

 private:
  Network& net_;
  Context& ctx_;
  Sgd sgd_;
  Progress progress_;
  Rng stream_rng_;  // the run's stream: each sub-batch's rng (ctx_.rng) is drawn from it
};

}  // namespace mabdet
