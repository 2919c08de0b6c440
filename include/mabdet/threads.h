// The process's one thread policy. mabdet's host loops (src/ops/parallel.h), oneDNN (which Debian
// builds on OpenMP) and OpenBLAS (its OpenMP build, which the Makefile links where installed) all
// run in one OpenMP pool of compute_threads() threads; data loaders add a few threads of their own
// that mostly sleep (default_loader_threads()).
#pragma once
#include <string>

namespace mabdet {

// n > 0: n threads; 0: OMP_NUM_THREADS when set, else the cores this process may run on. Sets
// OpenBLAS's count too, so that a pthread OpenBLAS (a pool of its own) is sized the same.
void set_compute_threads(int n);
int compute_threads();
// How OpenBLAS runs its gemms: "openmp" (in the one pool), "pthreads" (its own pool) or "serial".
const char* blas_threading();
// Background decode threads for the data loaders: one per four compute threads, at least one, at
// most four. A loader thread decodes a batch in a small fraction of a training step, so more would
// only compete with the compute threads for cores.
int default_loader_threads();
// One line for logs: "threads: 2 compute (OpenMP; OpenBLAS openmp, oneDNN), 1 loader" (no loader
// part when loader_threads is 0).
std::string thread_summary(int loader_threads);

}  // namespace mabdet
