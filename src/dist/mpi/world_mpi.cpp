// The world of an MPI build (linked into ./mabdet instead of src/dist/world_single.cpp): MPI is
// initialized only when a launcher started this process, so a plain `./mabdet ...` of an MPI=1
// build runs exactly as the default build does, without touching MPI.
#include <cstdlib>
#include <cstring>

#include "dist/mpi/mpi_comm.h"
#include "mabdet/error.h"

namespace mabdet {

std::unique_ptr<Comm> make_nccl_comm(std::unique_ptr<MpiComm> bootstrap);  // src/dist/nccl/

std::unique_ptr<Comm> make_world_comm(int& argc, char**& argv) {
  const char* want = std::getenv("MABDET_COMM");
  const std::string backend = want && *want ? want : "mpi";
  if (backend != "mpi" && backend != "nccl")
    fail("MABDET_COMM=", backend, ": unknown communicator (mpi | nccl)");
  if (launcher_ranks() == 0) return std::make_unique<SingleComm>();
  auto mpi = std::make_unique<MpiComm>(argc, argv);
  if (backend == "mpi") return mpi;
#ifdef MABDET_GPU
  return make_nccl_comm(std::move(mpi));
#else
  // Every rank reaches this line, so a plain failure (not an abort) ends them all.
  fail("MABDET_COMM=nccl: this mabdet was built without CUDA; build with `make GPU=1 MPI=1`");
#endif
}

}  // namespace mabdet
