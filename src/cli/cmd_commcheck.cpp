// mabdet commcheck [--floats N]: checks the communicator this process was started with (under
// mpirun: MPI, or NCCL with MABDET_COMM=nccl): every rank sums buffers of 1, 1000 and N floats
// and doubles through it, on the host and, where a GPU is present, on the device, and compares
// each value with the exact sum (small integers: every order of summation gives it). For a new
// cluster or driver before a long run; `mpirun -np 1 -x MABDET_COMM=nccl` exercises NCCL on one
// GPU. Prints one line per case on rank 0; exit 1 naming the first wrong value.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "mabdet/comm.h"
#include "mabdet/error.h"
#include "mabdet/tensor.h"

namespace mabdet::cli {
namespace {
// Rank r contributes (r + 1) + i % 7 at index i; the sum over N ranks is N(N+1)/2 + N * (i % 7).
template <class T>
void check(Comm& w, size_t n, Device d, const char* type) {
  std::vector<T> host(n);
  for (size_t i = 0; i < n; ++i) host[i] = T((w.rank() + 1) + int(i % 7));
  T* p = host.data();
  void* dev = nullptr;
  if (d != Device::CPU) {
    dev = detail::device_alloc(d, n * sizeof(T));
    detail::device_copy(dev, d, host.data(), Device::CPU, n * sizeof(T));
    p = static_cast<T*>(dev);
  }
  w.allreduce_sum(p, n, d);
  if (dev) {
    detail::device_copy(host.data(), Device::CPU, dev, d, n * sizeof(T));
    detail::device_free(d, dev);
  }
  const int N = w.size();
  for (size_t i = 0; i < n; ++i) {
    const T want = T(N * (N + 1) / 2 + N * int(i % 7));
    if (host[i] != want)
      fail("commcheck: rank ", w.rank(), ": ", w.backend(), " sum of ", n, " ", type, " on the ",
           d == Device::CPU ? "host" : "device", " is ", host[i], " at index ", i, ", not ", want);
  }
  if (w.rank() == 0)
    std::printf("%s, %d rank%s: %zu %s on the %s: ok\n", w.backend().c_str(), N, N == 1 ? "" : "s", n, type,
                d == Device::CPU ? "host" : "device");
}
}  // namespace

int commcheck(const Args& a) {
  size_t big = size_t(1) << 22;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == "--floats" && i + 1 < a.size()) {
      char* end = nullptr;
      const long long v = std::strtoll(a[++i].c_str(), &end, 10);
      if (a[i].empty() || *end || v < 1 || v > (1LL << 31)) fail("--floats: expected 1..2147483648, got '", a[i], "'");
      big = size_t(v);
    } else {
      fail("usage: mabdet commcheck [--floats N]");
    }
  }
  Comm& w = world();
  std::vector<Device> devices = {Device::CPU};
  if (cuda_available()) devices.push_back(Device::CUDA);
  for (Device d : devices)
    for (size_t n : {size_t(1), size_t(1000), big}) {
      check<float>(w, n, d, "floats");
      check<double>(w, n, d, "doubles");
    }
  return 0;
}

}  // namespace mabdet::cli
