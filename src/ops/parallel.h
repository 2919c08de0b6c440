// Host ops split their outer loop over the process's one OpenMP pool (the pool OpenBLAS's OpenMP
// build and oneDNN run in too; see src/ops/threads.cpp) when the op touches enough values to pay
// for waking it. Each loop below is split so that no value is summed by two threads: a channel's
// or a plane's reduction stays in one thread, in the serial order, so results are bitwise the same
// at any thread count.
#pragma once
#include <cstddef>

namespace mabdet::ops::detail {
// Waking the pool and joining it costs a few microseconds; below this many values the serial
// loop is done sooner.
constexpr size_t kParallelMin = size_t(1) << 15;
}  // namespace mabdet::ops::detail

// `#pragma omp` through a macro, so an OPENMP=0 build sees no unknown pragmas.
#ifdef _OPENMP
#define MABDET_PRAGMA(x) _Pragma(#x)
#define MABDET_PARALLEL_FOR(work) MABDET_PRAGMA(omp parallel for schedule(static) if ((work) >= mabdet::ops::detail::kParallelMin))
#else
#define MABDET_PARALLEL_FOR(work)
#endif
