// The MPI communicator (OpenMPI, MPICH): MPI_Init on construction, MPI_Finalize on destruction,
// sums by MPI_Allreduce on MPI_COMM_WORLD. MPI moves host memory (Debian's OpenMPI is not built
// CUDA-aware), so device buffers are staged through a host copy.
#pragma once
#include <mpi.h>

#include <vector>

#include "mabdet/comm.h"

namespace mabdet {

class MpiComm : public Comm {
 public:
  MpiComm(int& argc, char**& argv);
  ~MpiComm() override;
  MpiComm(const MpiComm&) = delete;
  MpiComm& operator=(const MpiComm&) = delete;
  std::string backend() const override { return "mpi"; }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allreduce_sum(float* p, size_t n, Device d) override;
  void allreduce_sum(double* p, size_t n, Device d) override;
  // MPI_Iallreduce for host buffers; device buffers (staged through the host) sum at once.
  void start_allreduce_sum(float* p, size_t n, Device d) override;
  void progress() override;
  void wait_all() override;
  [[noreturn]] void abort(int code) override;
  // Rank among the processes of this node (which GPU a rank takes).
  int local_rank() const { return local_rank_; }
  void broadcast_bytes(void* p, size_t bytes, int root);

 private:
  template <class T>
  void sum(T* p, size_t n, Device d, MPI_Datatype type);
  int rank_ = 0, size_ = 1, local_rank_ = 0;
  std::vector<unsigned char> host_;  // staging for device buffers
  std::vector<MPI_Request> pending_;  // started, not yet waited for
};

}  // namespace mabdet
