// Sums every trainable gradient over the ranks after a step's sub-batches, in buckets: small
// tensors (biases, norm affine, 3x3 convs of narrow layers) are packed into one staging buffer of
// up to `bucket_floats` values per all-reduce, since each call pays the transport's latency;
// a tensor at least that large is summed in place. Buckets follow the params in reverse (the
// order backward finishes them), which is the order an overlapping reducer would start them in.
#pragma once
#include <vector>

#include "mabdet/comm.h"
#include "mabdet/layer.h"

namespace mabdet {

class GradReducer {
 public:
  GradReducer(std::vector<Param> params, size_t bucket_floats);
  void reduce(Comm& comm);
  size_t buckets() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::vector<size_t> members;  // indices into params_
    size_t floats = 0;
  };
  std::vector<Param> params_;
  std::vector<Bucket> buckets_;
  Tensor staging_;  // on the gradients' device
};

}  // namespace mabdet
