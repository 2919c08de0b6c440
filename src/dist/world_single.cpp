// The world of a build without MPI: one process. Linked into ./mabdet instead of
// src/dist/mpi/world_mpi.cpp when MPI=0.
#include "mabdet/comm.h"
#include "mabdet/error.h"

namespace mabdet {

std::unique_ptr<Comm> make_world_comm(int&, char**&) {
  // N copies of one run would each train all of it and overwrite each other's checkpoints.
  const int n = launcher_ranks();
  if (n > 1)
    fail("started as one of ", n, " ranks (mpirun), but this mabdet was built without MPI: build it with "
         "`make MPI=1` for data-parallel training (docs/distributed.md), or run it without mpirun");
  return std::make_unique<SingleComm>();
}

}  // namespace mabdet
