#include "train/grad_reduce.h"

#include <algorithm>

namespace mabdet {

GradReducer::GradReducer(std::vector<Param> params, size_t bucket_floats) : params_(std::move(params)) {
  size_t largest = 0;
  for (size_t k = params_.size(); k-- > 0;) {
    const size_t n = params_[k].grad->size();
    if (n == 0) continue;
    MABDET_ASSERT(params_[k].grad->device() == params_.back().grad->device(), "gradients on two devices");
    if (buckets_.empty() || buckets_.back().floats + n > bucket_floats) buckets_.emplace_back();
    buckets_.back().members.push_back(k);
    buckets_.back().floats += n;
    if (buckets_.back().members.size() > 1) largest = std::max(largest, buckets_.back().floats);
  }
  if (largest) staging_ = Tensor(Shape{1, 1, 1, int(largest)}, params_.back().grad->device());
}

void GradReducer::reduce(Comm& comm) {
  for (const Bucket& b : buckets_) {
    if (b.members.size() == 1) {
      Tensor& g = *params_[b.members[0]].grad;
      comm.allreduce_sum(g.data(), g.size(), g.device());
      continue;
    }
    const Device d = staging_.device();
    size_t at = 0;
    for (size_t k : b.members) {
      const Tensor& g = *params_[k].grad;
      detail::device_copy(staging_.data() + at, d, g.data(), g.device(), g.size() * sizeof(float));
      at += g.size();
    }
    comm.allreduce_sum(staging_.data(), b.floats, d);
    at = 0;
    for (size_t k : b.members) {
      Tensor& g = *params_[k].grad;
      detail::device_copy(g.data(), g.device(), staging_.data() + at, d, g.size() * sizeof(float));
      at += g.size();
    }
  }
}

}  // namespace mabdet
