// Background batch assembly with a bounded prefetch queue. Batch b's images and random draws are
// a function of (seed, epoch, position) only, and batches are handed out in order of their number,
// not of completion, so the stream is identical whatever the thread count.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "mabdet/data/batch.h"

namespace mabdet {

struct LoaderOptions {
  int batch_size = 2;
  int threads = 2;         // background workers; 0 = assemble in next() on the caller's thread
  int prefetch = 4;        // batches ready or in flight ahead of the consumer
  bool train = true;       // shuffle per epoch, random sizes and flips, endless epochs, drop last
  bool masks = true;       // carry GT masks in Targets
  bool group_aspect = true;  // training: batch landscape with landscape, portrait with portrait
  uint64_t seed = 1;
  // Training: the number of the first batch handed out, so a resumed run reads on where it
  // stopped (batch b is the same whatever batch the loader starts at).
  int64_t start_batch = 0;
  // Training, data-parallel shard: of every shard_period consecutive batches (one optimizer
  // step's sub-batches over all ranks) this loader hands out the shard_take starting at
  // shard_offset, in order; start_batch must then begin a period. 1, 1, 0: every batch.
  int shard_period = 1, shard_take = 1, shard_offset = 0;
};

using EpochBatches = std::vector<std::vector<int64_t>>;  // dataset indices, batch by batch

// One epoch's batches. Training: a seeded shuffle (seed, epoch), then batches filled in that order
// -- with group_aspect, from two queues by orientation (w >= h, w < h), as Detectron2 groups them,
// which cuts padding -- and leftovers that do not fill a batch dropped; the count is the same
// every epoch. Evaluation: json order, the last batch possibly partial.
EpochBatches epoch_batches(const CocoDataset& ds, const LoaderOptions& opt, int64_t epoch);

class BatchLoader {
 public:
  // `ds` must outlive the loader.
  BatchLoader(const CocoDataset& ds, const AugmentCfg& cfg, const LoaderOptions& opt);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // The next batch (blocks until it is ready). Evaluation loaders return false after one pass.
  // An error in a worker (unreadable image, ...) is rethrown here, for the batch that hit it.
  bool next(Batch& out);
  int64_t batches_per_epoch() const { return per_epoch_; }
  int64_t waits() const { return waits_; }  // next() calls that found their batch not yet ready

 private:
  struct Slot {
    int64_t number = -1;  // batch number held, -1 = free
    bool ready = false;
    Batch batch;
    std::exception_ptr error;
  };
  void worker();
  void produce(int64_t number, Batch& out, std::vector<float>& scratch) const;
  // The epoch's batches, computed once and shared by the workers (COCO: 118k entries).
  std::shared_ptr<const EpochBatches> batches_for(int64_t epoch) const;

  const CocoDataset& ds_;
  AugmentCfg cfg_;
  LoaderOptions opt_;
  int64_t per_epoch_ = 0, total_ = -1;  // total_: -1 = endless (training)
  std::vector<float> scratch_;          // for threads == 0
  mutable std::mutex order_mu_;
  mutable std::vector<std::pair<int64_t, std::shared_ptr<const EpochBatches>>> epochs_;  // the last two

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Slot> slots_;
  // Batch numbers in the order this loader hands them out (its shard): the k-th is number_of(k).
  int64_t number_of(int64_t k) const;
  int64_t next_claim_ = 0, next_out_ = 0, waits_ = 0;  // counted in that order
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace mabdet
