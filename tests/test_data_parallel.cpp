// The pieces of data-parallel training that need no MPI: how a step is dealt out to the ranks
// (shard_plan and its startup line) and the bucketed gradient sum (GradReducer), with ranks as
// threads. The whole thing over MPI: tests/scripts/distributed.sh.
#include <doctest/doctest.h>

#include "mabdet/error.h"
#include "mabdet/shard.h"
#include "thread_comm.h"
#include "train/grad_reduce.h"

using namespace mabdet;

TEST_CASE("shard_plan: each rank runs its contiguous run of the step's sub-batches") {
  NetConfig c;
  c.batch = 8;
  c.subdivisions = 4;
  test::ThreadHub hub(2);
  test::ThreadComm r1(hub, 1);
  const ShardPlan p = shard_plan(c, &r1);
  CHECK(p.ranks == 2);
  CHECK(p.subdivisions == 2);
  CHECK(p.first_sub == 2);
  CHECK(p.sub_batch == 2);
  CHECK(p.images_per_rank() == 4);
  CHECK(shard_line(c, p, &r1, false) ==
        "2 ranks (threads): batch 8 images per step = 4 per rank (2 sub-batches of 2); images per normalization: 2 per rank");
  CHECK(shard_line(c, p, &r1, true).find("images per normalization: 2 (4 in sync_bn layers, over the ranks)") != std::string::npos);
  const ShardPlan one = shard_plan(c, nullptr);
  CHECK((one.ranks == 1 && one.subdivisions == 4 && one.first_sub == 0));
  CHECK(shard_line(c, one, nullptr, false) == "1 rank: batch 8 images per step = 8 per rank (4 sub-batches of 2); images per normalization: 2");
  c.subdivisions = 1;
  CHECK_THROWS_WITH_AS(shard_plan(c, &r1), doctest::Contains("subdivisions=1 is not a multiple of the 2 ranks"), Error);
}

TEST_CASE("GradReducer: every gradient becomes its sum over the ranks, small ones packed, large ones in place") {
  // Sizes around the 10-float bucket: packed runs, one exactly full, one larger than a bucket.
  const std::vector<int> sizes = {3, 4, 12, 2, 10, 1, 5};
  const int ranks = 3;
  test::ThreadHub hub(ranks);
  std::vector<std::vector<Tensor>> grads(ranks);
  std::vector<size_t> buckets(ranks);
  test::run_ranks(hub, [&](int r, Comm& comm) {
    std::vector<Tensor> values;
    for (int n : sizes) {
      values.emplace_back(1, n);
      grads[size_t(r)].emplace_back(1, n);
    }
    std::vector<Param> ps;
    for (size_t k = 0; k < sizes.size(); ++k) {
      for (int i = 0; i < sizes[k]; ++i) grads[size_t(r)][k][size_t(i)] = float((r + 1) * 100 + int(k) * 10 + i);
      ps.push_back({"p", &values[k], &grads[size_t(r)][k]});
    }
    GradReducer red(ps, std::vector<size_t>(sizes.size(), 0), 10);
    buckets[size_t(r)] = red.buckets();
    red.reduce(comm);
  });
  CHECK(buckets[0] == 5);  // reverse order: {5,1} {10} {2} {12} {4,3}
  for (int r = 0; r < ranks; ++r)
    for (size_t k = 0; k < sizes.size(); ++k)
      for (int i = 0; i < sizes[k]; ++i)
        CHECK(grads[size_t(r)][k][size_t(i)] == float(600 + ranks * (int(k) * 10 + i)));
  CHECK(hub.calls == 5);
}

namespace {
// One rank standing for two equal ones: a started sum doubles its buffer only at wait_all(),
// which is when a non-blocking all-reduce may land; it records what was started when.
class DeferredComm : public Comm {
 public:
  std::string backend() const override { return "deferred"; }
  int rank() const override { return 0; }
  int size() const override { return 2; }
  void allreduce_sum(float* p, size_t n, Device) override {
    for (size_t i = 0; i < n; ++i) p[i] *= 2;
  }
  void allreduce_sum(double* p, size_t n, Device) override {
    for (size_t i = 0; i < n; ++i) p[i] *= 2;
  }
  void start_allreduce_sum(float* p, size_t n, Device) override { started.push_back({p, n}); }
  void wait_all() override {
    for (auto& s : started) allreduce_sum(s.first, s.second, Device::CPU);
    waited += started.size();
    started.clear();
  }
  [[noreturn]] void abort(int) override { std::abort(); }
  std::vector<std::pair<float*, size_t>> started;
  size_t waited = 0;
};
}  // namespace

TEST_CASE("GradReducer: a bucket starts once backward completes its last member; finish() starts the rest and waits") {
  const std::vector<int> sizes = {3, 4, 12, 2, 10, 1, 5};
  // Buckets (reverse order): {6,5} {4} {3} {2} {1,0}; the nodes that complete each param:
  const std::vector<size_t> final_node = {0, 0, 1, 2, 2, 3, 3};
  std::vector<Tensor> values, grads;
  for (int n : sizes) {
    values.emplace_back(1, n);
    grads.emplace_back(1, n);
  }
  std::vector<Param> ps;
  for (size_t k = 0; k < sizes.size(); ++k) ps.push_back({"p", &values[k], &grads[k]});
  GradReducer red(ps, final_node, 10);
  DeferredComm comm;
  for (int round = 0; round < 2; ++round) {  // the second step reuses the bucket bookkeeping
    for (size_t k = 0; k < sizes.size(); ++k)
      for (int i = 0; i < sizes[k]; ++i) grads[k][size_t(i)] = float(k * 10 + size_t(i));
    red.begin_step();
    red.node_done(3, comm);
    CHECK(comm.started.size() == 1);  // {6,5}, packed
    CHECK(comm.started[0].second == 6);
    red.node_done(2, comm);
    CHECK(comm.started.size() == 3);  // {4} and {3}, each in place
    CHECK(comm.started[1].first == grads[4].data());
    CHECK(comm.started[2].first == grads[3].data());
    red.node_done(1, comm);
    CHECK(comm.started.size() == 4);
    // Node 0's backward never ran (nothing trainable before it): finish() starts {1,0} itself.
    red.finish(comm);
    CHECK(comm.started.empty());
    CHECK(comm.waited == size_t(5 * (round + 1)));
    for (size_t k = 0; k < sizes.size(); ++k)
      for (int i = 0; i < sizes[k]; ++i) CHECK(grads[k][size_t(i)] == float(2 * (k * 10 + size_t(i))));
  }
}
