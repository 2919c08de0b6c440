// Ranks as threads of the test process: a Comm whose all-reduce sums over the threads sharing a
// ThreadHub, so that sync_bn and mabn_sync_stats can be checked against one process without MPI
// (the MPI path itself is tests/scripts/distributed.sh). Sums are taken in double, in rank order.
#pragma once
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "mabdet/comm.h"

namespace mabdet::test {

struct ThreadHub {
  explicit ThreadHub(int n) : size(n), parts(size_t(n)) {}
  int size;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::vector<double>> parts;  // each rank's contribution to the current round
  std::vector<double> sum;
  int arrived = 0, left = 0;
  bool draining = false;
  int64_t calls = 0;  // collectives completed
};

class ThreadComm : public Comm {
 public:
  ThreadComm(ThreadHub& hub, int rank) : hub_(hub), rank_(rank) {}
  std::string backend() const override { return "threads"; }
  int rank() const override { return rank_; }
  int size() const override { return hub_.size; }
  void allreduce_sum(double* p, size_t n, Device) override { round(p, n); }
  void allreduce_sum(float* p, size_t n, Device) override {
    std::vector<double> v(p, p + n);
    round(v.data(), n);
    for (size_t i = 0; i < n; ++i) p[i] = float(v[i]);
  }
  [[noreturn]] void abort(int) override { std::abort(); }

 private:
  void round(double* p, size_t n) {
    std::unique_lock<std::mutex> lk(hub_.mu);
    hub_.cv.wait(lk, [&] { return !hub_.draining; });  // the previous round is fully read
    hub_.parts[size_t(rank_)].assign(p, p + n);
    if (++hub_.arrived == hub_.size) {
      hub_.sum.assign(n, 0.0);
      for (const auto& part : hub_.parts)
        for (size_t i = 0; i < n; ++i) hub_.sum[i] += part.at(i);  // .at: ranks disagreeing on n fail
      hub_.draining = true;
      hub_.cv.notify_all();
    } else {
      hub_.cv.wait(lk, [&] { return hub_.draining; });
    }
    for (size_t i = 0; i < n; ++i) p[i] = hub_.sum[i];
    if (++hub_.left == hub_.size) {
      hub_.arrived = hub_.left = 0;
      hub_.draining = false;
      ++hub_.calls;
      hub_.cv.notify_all();
    }
  }
  ThreadHub& hub_;
  int rank_;
};

// Runs body(rank, comm) on `ranks` threads and rethrows the first exception; doctest assertions
// are not thread-safe, so bodies record results and the caller checks them afterwards.
inline void run_ranks(ThreadHub& hub, const std::function<void(int, Comm&)>& body) {
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(size_t(hub.size));
  for (int r = 0; r < hub.size; ++r)
    threads.emplace_back([&, r] {
      ThreadComm comm(hub, r);
      try {
        body(r, comm);
      } catch (...) {
        errors[size_t(r)] = std::current_exception();
      }
    });
  for (std::thread& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace mabdet::test
