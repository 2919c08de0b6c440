// MABDET_HD marks math that the CPU loops and the CUDA kernels share: one body, compiled by g++
// for the host and by nvcc for both, so the CPU suite exercises every line the GPU runs.
#pragma once

#ifdef __CUDACC__
#define MABDET_HD __host__ __device__ inline
#else
#define MABDET_HD inline
#endif
