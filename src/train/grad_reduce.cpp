#include "train/grad_reduce.h"

#include <algorithm>

namespace mabdet {

GradReducer::GradReducer(std::vector<Param> params, const std::vector<size_t>& final_node, size_t bucket_floats)
    : params_(std::move(params)) {
  MABDET_ASSERT(final_node.size() == params_.size(), "a final node per param");
  for (size_t k = params_.size(); k-- > 0;) {
    const size_t n = params_[k].grad->size();
    if (n == 0) continue;
    MABDET_ASSERT(params_[k].grad->device() == params_.back().grad->device(), "gradients on two devices");
    if (buckets_.empty() || buckets_.back().floats + n > bucket_floats) buckets_.emplace_back();
    Bucket& b = buckets_.back();
    b.members.push_back(k);
    b.floats += n;
    const size_t node = final_node[k];
    if (completes_.size() <= node) completes_.resize(node + 1);
    completes_[node].push_back(buckets_.size() - 1);
  }
  size_t packed = 0;
  for (Bucket& b : buckets_)
    if (b.members.size() > 1) {
      b.offset = packed;
      packed += b.floats;
    }
  if (packed) staging_ = Tensor(Shape{1, 1, 1, int(packed)}, params_.back().grad->device());
}

void GradReducer::begin_step() {
  for (Bucket& b : buckets_) {
    b.waiting = b.members.size();
    b.started = false;
  }
}

void GradReducer::start(Bucket& b, Comm& comm) {
  b.started = true;
  if (b.members.size() == 1) {
    Tensor& g = *params_[b.members[0]].grad;
    comm.start_allreduce_sum(g.data(), g.size(), g.device());
    return;
  }
  const Device d = staging_.device();
  size_t at = b.offset;
  for (size_t k : b.members) {
    const Tensor& g = *params_[k].grad;
    detail::device_copy(staging_.data() + at, d, g.data(), g.device(), g.size() * sizeof(float));
    at += g.size();
  }
  comm.start_allreduce_sum(staging_.data() + b.offset, b.floats, d);
}

void GradReducer::node_done(size_t node, Comm& comm) {
  if (node >= completes_.size()) return;
  for (size_t i : completes_[node]) {
    Bucket& b = buckets_[i];
    MABDET_ASSERT(b.waiting > 0 && !b.started, "a bucket's member completed twice");
    if (--b.waiting == 0) start(b, comm);
  }
  comm.progress();
}

void GradReducer::finish(Comm& comm) {
  // Buckets of layers whose backward was skipped (nothing trainable before them) start here, in
  // bucket order, the same on every rank.
  for (Bucket& b : buckets_)
    if (!b.started) start(b, comm);
  comm.wait_all();
  const Device d = staging_.device();
  for (const Bucket& b : buckets_) {
    if (b.members.size() == 1) continue;
    size_t at = b.offset;
    for (size_t k : b.members) {
      Tensor& g = *params_[k].grad;
      detail::device_copy(g.data(), g.device(), staging_.data() + at, d, g.size() * sizeof(float));
      at += g.size();
    }
  }
}

}  // namespace mabdet
