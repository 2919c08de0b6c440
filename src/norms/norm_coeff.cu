// The norms' coefficient steps (coeff_kern.h) as CUDA kernels: one instantiation per functor.
#include "norms/coeff_kern.h"
#include "ops/for_each_index_cuda.h"

namespace mabdet::ops {
#define MABDET_NORM_KERNEL(F) template void for_each_index_cuda<norm_kern::F>(int, const norm_kern::F&);
MABDET_NORM_KERNEL(BatchMean)
MABDET_NORM_KERNEL(BatchStatsForward)
MABDET_NORM_KERNEL(BatchStatsBackward)
MABDET_NORM_KERNEL(BatchStatsInference)
MABDET_NORM_KERNEL(FrozenAffine)
MABDET_NORM_KERNEL(MabnForward)
MABDET_NORM_KERNEL(MabnBackward)
MABDET_NORM_KERNEL(MabnInference)
MABDET_NORM_KERNEL(GroupMean)
MABDET_NORM_KERNEL(GroupForward)
MABDET_NORM_KERNEL(GroupBackward)
MABDET_NORM_KERNEL(GroupParamGrads)
#undef MABDET_NORM_KERNEL
}  // namespace mabdet::ops
