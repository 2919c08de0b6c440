#include <cblas.h>

#include "mabdet/ops.h"
#include "ops/dispatch.h"

namespace mabdet::ops {
void gemm_cuda(bool, bool, int, int, int, float, const float*, int, const float*, int, float, float*, int);

void gemm(Device d, bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  if (M == 0 || N == 0) return;
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("gemm", gemm_cuda(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc));
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, M, N, K,
              alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace mabdet::ops
