// Sums every trainable gradient over the ranks, in buckets: small tensors (biases, norm affine,
// 3x3 convs of narrow layers) are packed into a staging slice of up to `bucket_floats` values per
// all-reduce, since each call pays the transport's latency; a tensor at least that large is
// summed in place. Buckets follow the params in reverse, the order backward finishes them: with
// node_done() called after each node of the step's last backward, a bucket's sum starts as soon
// as its last gradient is complete, while backward goes on (Comm::start_allreduce_sum), and
// finish() waits for them all.
#pragma once
#include <vector>

#include "mabdet/comm.h"
#include "mabdet/layer.h"

namespace mabdet {

class GradReducer {
 public:
  // final_node[k]: the node after whose backward params[k].grad is complete.
  GradReducer(std::vector<Param> params, const std::vector<size_t>& final_node, size_t bucket_floats);
  void begin_step();                        // before the step's last backward
  void node_done(size_t node, Comm& comm);  // starts the buckets node completes
  void finish(Comm& comm);                  // starts what is left, waits, unpacks
  void reduce(Comm& comm) { begin_step(); finish(comm); }  // all at once, after backward
  size_t buckets() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::vector<size_t> members;  // indices into params_
    size_t floats = 0;
    size_t offset = 0;            // into staging_, when packed (members > 1)
    size_t waiting = 0;           // members not yet complete this step
    bool started = false;
  };
  void start(Bucket& b, Comm& comm);
  std::vector<Param> params_;
  std::vector<Bucket> buckets_;
  std::vector<std::vector<size_t>> completes_;  // per node: the buckets with a member it finishes
  Tensor staging_;  // on the gradients' device; every packed bucket has its own slice
};

}  // namespace mabdet
