#include "dist/mpi/mpi_comm.h"

#include <algorithm>
#include <climits>
#include <cstdio>

namespace mabdet {

MpiComm::MpiComm(int& argc, char**& argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_free(&node);
}

MpiComm::~MpiComm() { MPI_Finalize(); }

// MPI counts are ints: a larger buffer goes in pieces of at most INT_MAX values.
template <class T>
void MpiComm::sum(T* p, size_t n, Device d, MPI_Datatype type) {
  if (size_ == 1 || n == 0) return;
  T* host = p;
  if (d != Device::CPU) {
    host_.resize(n * sizeof(T));
    host = reinterpret_cast<T*>(host_.data());
    detail::device_copy(host, Device::CPU, p, d, n * sizeof(T));
  }
  for (size_t i = 0; i < n; i += size_t(INT_MAX)) {
    const int k = int(std::min(n - i, size_t(INT_MAX)));
    MPI_Allreduce(MPI_IN_PLACE, host + i, k, type, MPI_SUM, MPI_COMM_WORLD);
  }
  if (d != Device::CPU) detail::device_copy(p, d, host, Device::CPU, n * sizeof(T));
}

void MpiComm::allreduce_sum(float* p, size_t n, Device d) { sum(p, n, d, MPI_FLOAT); }
void MpiComm::allreduce_sum(double* p, size_t n, Device d) { sum(p, n, d, MPI_DOUBLE); }

void MpiComm::start_allreduce_sum(float* p, size_t n, Device d) {
  if (size_ == 1 || n == 0) return;
  if (d != Device::CPU) return sum(p, n, d, MPI_FLOAT);
  for (size_t i = 0; i < n; i += size_t(INT_MAX)) {
    const int k = int(std::min(n - i, size_t(INT_MAX)));
    pending_.emplace_back();
    MPI_Iallreduce(MPI_IN_PLACE, p + i, k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &pending_.back());
  }
}

void MpiComm::progress() {
  if (pending_.empty()) return;
  int done = 0;
  MPI_Testall(int(pending_.size()), pending_.data(), &done, MPI_STATUSES_IGNORE);
  if (done) pending_.clear();
}

void MpiComm::wait_all() {
  if (pending_.empty()) return;
  MPI_Waitall(int(pending_.size()), pending_.data(), MPI_STATUSES_IGNORE);
  pending_.clear();
}

void MpiComm::broadcast_bytes(void* p, size_t bytes, int root) {
  MPI_Bcast(p, int(bytes), MPI_BYTE, root, MPI_COMM_WORLD);
}

void MpiComm::abort(int code) {
  std::fflush(nullptr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this is for an implementation that would
}

}  // namespace mabdet
