// Training a detector cfg on a COCO-format .data file (`mabdet train`).
#pragma once
#include <cstdint>
#include <string>

#include "mabdet/comm.h"
#include "mabdet/detector.h"

namespace mabdet {

struct DetTrainOptions {
  std::string weights;      // resume from this checkpoint ("" = from scratch)
  bool restart = false;     // with weights: load the weights only, the schedule starts at step 0
  int64_t stop_after = -1;  // stop after this many steps of this run (tests; a _last checkpoint)
  int save_every = 1000;    // steps between NAME_last.weights saves
  int keep_every = 0;       // also keep NAME_STEP.weights every N steps, darknet style (0 = never)
  int map_every = 0;        // evaluate on val every N steps, keeping NAME_best.weights (0 = never)
  bool final_eval = true;   // print the COCO tables on val after the last step
  int log_every = 20;
  int loader_threads = 2;   // the CLI passes default_loader_threads() unless --loader-threads says
  // Data-parallel ranks (null: this process alone): each rank loads its shard of every step's
  // batches (mabdet/shard.h); rank 0 alone logs, charts, evaluates and saves.
  Comm* comm = nullptr;
};
// Returns the path of the checkpoint it ended with (NAME_final.weights, or NAME_last.weights
// when stopped early). Chart and checkpoints go to the .data file's backup folder.
std::string train_detector(const std::string& cfg, const std::string& data, const DetTrainOptions& opt);

}  // namespace mabdet
