// Device dispatch for ops: CUDA implementations exist only in GPU=1 builds, so a CUDA tensor
// reaching an op in a CPU build is a clear error rather than a link failure.
#pragma once
#include "mabdet/error.h"

#ifdef MABDET_GPU
#define MABDET_CUDA_OR_FAIL(opname, call) return call
#else
#define MABDET_CUDA_OR_FAIL(opname, call) ::mabdet::fail(opname, ": this mabdet was built without GPU=1")
#endif
