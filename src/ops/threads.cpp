#include "mabdet/threads.h"

#include <sched.h>

#include <algorithm>
#include <cblas.h>
#include <cstdlib>

#include "mabdet/error.h"
#include "ops/conv_dnnl.h"
#ifdef _OPENMP
#include <omp.h>
#endif

namespace mabdet {
namespace {
int cores_available() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return 1;
}

int env_threads() {
  const char* v = std::getenv("OMP_NUM_THREADS");
  if (!v || !*v) return 0;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  // OpenMP also takes lists ("4,2"); their first entry is the outer pool's size.
  return end != v && n > 0 ? int(std::min<long>(n, 4096)) : 0;
}
}  // namespace

void set_compute_threads(int n) {
  MABDET_ASSERT(n >= 0, "set_compute_threads: ", n);
  if (n == 0) n = env_threads();
  if (n == 0) n = cores_available();
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  openblas_set_num_threads(n);
}

int compute_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

const char* blas_threading() {
  switch (openblas_get_parallel()) {
    case 0: return "serial";
    case 2: return "openmp";
    default: return "pthreads";
  }
}

int default_loader_threads() { return std::clamp(compute_threads() / 4, 1, 4); }

std::string thread_summary(int loader_threads) {
  std::string s = cat("threads: ", compute_threads(), " compute (OpenMP; OpenBLAS ", blas_threading());
  if (std::string(blas_threading()) == "pthreads") s += cat(" in its own pool of ", openblas_get_num_threads());
  if (ops::dnnl_built()) s += ", oneDNN";
  s += ")";
  return loader_threads > 0 ? s + cat(", ", loader_threads, " loader") : s;
}

}  // namespace mabdet
