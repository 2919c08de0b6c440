#include "mabdet/data/loader.h"

#include <algorithm>
#include <numeric>

#include "mabdet/error.h"
#include "mabdet/rng.h"

namespace mabdet {
namespace {
// Independent streams per (seed, epoch, position); Rng::seed_with spreads the bits.
uint64_t mix(uint64_t seed, int64_t epoch, int64_t pos) {
  return seed * 0x9E3779B97F4A7C15ULL ^ uint64_t(epoch + 1) * 0xC2B2AE3D27D4EB4FULL ^ uint64_t(pos + 1) * 0x165667B19E3779F9ULL;
}
}  // namespace

EpochBatches epoch_batches(const CocoDataset& ds, const LoaderOptions& opt, int64_t epoch) {
  const size_t n = ds.images.size(), bs = size_t(opt.batch_size);
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  EpochBatches out;
  if (!opt.train) {
    for (size_t i = 0; i < n; i += bs) out.emplace_back(order.begin() + long(i), order.begin() + long(std::min(n, i + bs)));
    return out;
  }
  Rng rng(mix(opt.seed, epoch, -2));
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[size_t(rng.randint(int(i)))]);
  std::vector<int64_t> queue[2];
  for (int64_t i : order) {
    const ImageRecord& im = ds.images[size_t(i)];
    std::vector<int64_t>& q = queue[opt.group_aspect && im.width < im.height ? 1 : 0];
    q.push_back(i);
    if (q.size() == bs) {
      out.push_back(std::move(q));
      q.clear();
    }
  }
  return out;
}

BatchLoader::BatchLoader(const CocoDataset& ds, const AugmentCfg& cfg, const LoaderOptions& opt)
    : ds_(ds), cfg_(cfg), opt_(opt) {
  if (opt.batch_size < 1) fail("loader: batch size must be >= 1");
  if (opt.threads < 0) fail("loader: thread count must be >= 0");
  if (ds.images.empty()) fail(ds.json_path, ": no images to load");
  per_epoch_ = int64_t(batches_for(0)->size());
  if (per_epoch_ == 0)
    fail(ds.json_path, ": ", ds.images.size(), " images do not fill one batch of ", opt.batch_size,
         opt.group_aspect ? " (with aspect grouping)" : "");
  if (!opt.train) total_ = per_epoch_;
  if (opt.start_batch < 0 || (!opt.train && opt.start_batch > 0)) fail("loader: start_batch must be >= 0 (training only)");
  if (opt.shard_period < 1 || opt.shard_take < 1 || opt.shard_offset < 0 ||
      opt.shard_offset + opt.shard_take > opt.shard_period || (!opt.train && opt.shard_period > 1))
    fail("loader: shard ", opt.shard_offset, "+", opt.shard_take, " of ", opt.shard_period,
         " does not fit in its period (training only)");
  if (opt.start_batch % opt.shard_period) fail("loader: start_batch ", opt.start_batch, " does not begin a shard period");
  next_claim_ = next_out_ = opt.start_batch / opt.shard_period * opt.shard_take;
  slots_.resize(size_t(std::max(1, opt.prefetch)));
  for (int t = 0; t < opt.threads; ++t) threads_.emplace_back([this] { worker(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

std::shared_ptr<const EpochBatches> BatchLoader::batches_for(int64_t epoch) const {
  std::lock_guard<std::mutex> lk(order_mu_);
  for (const auto& e : epochs_)
    if (e.first == epoch) return e.second;
  auto b = std::make_shared<const EpochBatches>(epoch_batches(ds_, opt_, epoch));
  // Workers straddle at most an epoch boundary in practice; a miss only recomputes the same list.
  if (epochs_.size() >= 2) epochs_.erase(epochs_.begin());
  epochs_.emplace_back(epoch, b);
  return b;
}

void BatchLoader::produce(int64_t number, Batch& out, std::vector<float>& scratch) const {
  const int64_t epoch = number / per_epoch_, pos = number % per_epoch_;
  std::shared_ptr<const EpochBatches> batches = batches_for(epoch);
  const std::vector<int64_t>& idx = (*batches)[size_t(pos)];
  std::vector<ResizePlan> plans;
  for (size_t k = 0; k < idx.size(); ++k) {
    const ImageRecord& rec = ds_.images[size_t(idx[k])];
    Rng rng(mix(opt_.seed, epoch, pos * opt_.batch_size + int64_t(k)));
    plans.push_back(plan_augment(rec.width, rec.height, cfg_, opt_.train, rng));
  }
  assemble_batch(ds_, idx, plans, cfg_, opt_.masks, out, scratch);
  out.epoch = epoch;
  out.number = number;
}

int64_t BatchLoader::number_of(int64_t k) const {
  return k / opt_.shard_take * opt_.shard_period + opt_.shard_offset + k % opt_.shard_take;
}

void BatchLoader::worker() {
  std::vector<float> scratch;
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    int64_t number = next_claim_;
    if (total_ >= 0 && number >= total_) return;  // evaluation pass fully claimed
    Slot& s = slots_[size_t(number % int64_t(slots_.size()))];
    cv_.wait(lk, [&] { return stop_ || next_claim_ != number || s.number < 0; });
    if (stop_) return;
    if (next_claim_ != number) continue;  // another worker took it
    s.number = number;
    ++next_claim_;
    Batch b = std::move(s.batch);  // reuse the slot's buffers
    lk.unlock();
    std::exception_ptr err;
    try {
      produce(number_of(number), b, scratch);
    } catch (...) {
      err = std::current_exception();
    }
    lk.lock();
    s.batch = std::move(b);
    s.error = err;
    s.ready = true;
    cv_.notify_all();
  }
}

bool BatchLoader::next(Batch& out) {
  if (total_ >= 0 && next_out_ >= total_) return false;
  if (threads_.empty()) {
    produce(number_of(next_out_++), out, scratch_);
    return true;
  }
  std::unique_lock<std::mutex> lk(mu_);
  Slot& s = slots_[size_t(next_out_ % int64_t(slots_.size()))];
  if (!(s.number == next_out_ && s.ready)) {
    ++waits_;
    cv_.wait(lk, [&] { return s.number == next_out_ && s.ready; });
  }
  std::swap(out, s.batch);  // the consumer's old buffers go back to the slot for reuse
  std::exception_ptr err = s.error;
  s.error = nullptr;
  s.ready = false;
  s.number = -1;
  ++next_out_;
  lk.unlock();
  cv_.notify_all();
  if (err) std::rethrow_exception(err);
  return true;
}

}  // namespace mabdet
