// Block-wide reductions for the .cu files (device code only; include after cuda_common.h).
// A block is a whole number of warps, at most 1024 threads: warps reduce by shuffles, then every
// thread combines the per-warp partials in the same fixed order, so each gets the same result and
// repeated runs are bitwise reproducible.
#pragma once
#include <cstddef>

namespace mabdet::ops {
struct SumOp {
  template <class T>
  __device__ T operator()(T a, T b) const { return a + b; }
};
struct MaxOp {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

// The reduction of v over the block, returned to every thread. Every thread of the block must call
// it (it synchronizes); consecutive calls in one kernel are safe.
template <class T, class Op>
__device__ T block_allreduce(T v, Op op) {
  __shared__ T part[32];
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x >> 5, warps = (blockDim.x + 31u) >> 5;
  __syncthreads();  // an earlier call's readers are done with part
  if (lane == 0) part[warp] = v;
  __syncthreads();
  v = part[0];
  for (unsigned w = 1; w < warps; ++w) v = op(v, part[w]);
  return v;
}

// Threads for a block that reduces `count` values: whole warps, 32..256.
inline unsigned reduce_threads(size_t count) {
  return count >= 256 ? 256u : count <= 32 ? 32u : unsigned((count + 31) / 32 * 32);
}
}  // namespace mabdet::ops
