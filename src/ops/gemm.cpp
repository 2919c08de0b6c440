#include <cblas.h>

#include "mabdet/ops.h"
#include "ops/dispatch.h"

namespace mabdet::ops {

void gemm_cuda(bool, bool, int, int, int, float, const float*, int, const float*, int, float, float*, int);

void gemm(Device d, bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  MABDET_ASSERT(M >= 0 && N >= 0 && K >= 0, "gemm: M ", M, " N ", N, " K ", K);
  if (M == 0 || N == 0) return;
  // K = 0 (a weight gradient summed over an empty batch): op(A) op(B) is the zero matrix, so
  // C = beta * C. Neither BLAS is called: they demand lda/ldb >= max(1, K), which a caller passing
  // K as the leading dimension does not meet, and OpenBLAS then only prints and skips the call.
  if (K == 0) {
    if (beta == 1.f) return;
    for (int r = 0; r < M; ++r) {
      float* row = C + size_t(r) * ldc;
      // beta = 0 overwrites, as BLAS does: C may hold garbage (NaN) that 0 * C would keep.
      if (beta == 0.f) detail::device_zero(d, row, size_t(N) * sizeof(float));
      else scale(d, size_t(N), beta, row);
    }
    return;
  }
  // Row-major leading dimensions (the CUDA twin swaps operands, so the same bounds apply there).
  MABDET_ASSERT(lda >= (transA ? M : K) && ldb >= (transB ? K : N) && ldc >= N, "gemm: lda ", lda, " ldb ", ldb,
                " ldc ", ldc, " for M ", M, " N ", N, " K ", K);
  if (d == Device::CUDA) MABDET_CUDA_OR_FAIL("gemm", gemm_cuda(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc));
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, M, N, K,
              alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace mabdet::ops
