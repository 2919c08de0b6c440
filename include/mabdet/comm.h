// Comm: the communicator of data-parallel training, the one thing the trainer and sync_bn talk
// to. Implementations: the single process (size 1, every call a no-op; the default build has only
// this one), MPI (src/dist/mpi/, `make MPI=1`: host buffers, device buffers staged through the
// host) and NCCL bootstrapped through MPI (src/dist/nccl/, `make GPU=1 MPI=1`: device buffers,
// host buffers staged through the device). Layers and norms see only this interface.
//
// Every collective must be called by every rank, in the same order, with the same count: a rank
// that skips one (an empty batch, an early return) leaves the others waiting forever. Callers
// that may have nothing to contribute pass zeros instead of skipping.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "mabdet/tensor.h"

namespace mabdet {

class Comm {
 public:
  virtual ~Comm() = default;
  virtual std::string backend() const = 0;  // "single" | "mpi" | "nccl"
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // In place: p[i] becomes the sum over ranks of p[i]; p holds n values on device d.
  virtual void allreduce_sum(float* p, size_t n, Device d) = 0;
  virtual void allreduce_sum(double* p, size_t n, Device d) = 0;
  // A sum that may run while the caller goes on (gradient buckets during backward): p must stay
  // untouched until wait_all(), which completes every sum started since the last wait_all().
  // The same ordering rule as above applies to when each rank starts it. The default sums at
  // once, for backends that cannot overlap.
  virtual void start_allreduce_sum(float* p, size_t n, Device d) { allreduce_sum(p, n, d); }
  // Lets started sums advance: MPI moves a non-blocking collective only inside MPI calls.
  virtual void progress() {}
  virtual void wait_all() {}
  // Ends every rank now with exit code `code` (after the caller printed why); for a rank that
  // failed while the others may be waiting in a collective. Never returns.
  [[noreturn]] virtual void abort(int code) = 0;
};

// Size 1: sums over one rank are the values themselves.
class SingleComm : public Comm {
 public:
  std::string backend() const override { return "single"; }
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_sum(float*, size_t, Device) override {}
  void allreduce_sum(double*, size_t, Device) override {}
  [[noreturn]] void abort(int code) override;
};

// Null means the single process, so library callers that know nothing of ranks pass nothing.
inline int comm_size(const Comm* c) { return c ? c->size() : 1; }
inline int comm_rank(const Comm* c) { return c ? c->rank() : 0; }
inline bool is_root(const Comm* c) { return comm_rank(c) == 0; }
inline bool distributed(const Comm* c) { return comm_size(c) > 1; }

// The process's communicator, made once by main(). Builds without MPI: the single process (and
// an error when mpirun started several: they would all train the same run alone). MPI builds:
// the single process unless launched by mpirun/mpiexec; then MPI, or NCCL when MABDET_COMM=nccl
// (GPU=1 MPI=1 builds). Defined by src/dist/world_single.cpp or src/dist/mpi/world_mpi.cpp,
// whichever the build links.
std::unique_ptr<Comm> make_world_comm(int& argc, char**& argv);

// Ranks announced by a launcher's environment (OpenMPI's mpirun, MPICH/Hydra's PMI), 0 when
// none: how a build decides, before initializing anything, whether mpirun started it.
int launcher_ranks();

}  // namespace mabdet
