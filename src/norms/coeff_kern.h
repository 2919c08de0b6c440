// The per-channel (gn: per-group) steps of every norm that turn the reductions of src/ops into
// coefficients, running statistics and parameter gradients: one MABDET_HD body each, run by
// ops::for_each_index on the norm's device (one index per channel or group; channels never
// share a write). The host loops these replaced computed the same expressions in the same
// order and types, so the CPU results did not change; norm_coeff.cu instantiates them for CUDA.
#pragma once
#include <cmath>
#include <cstddef>

#include "ops/hd.h"

namespace mabdet::norm_kern {
MABDET_HD double clamp(double v, double lo, double hi) { return v < lo ? lo : hi < v ? hi : v; }

// Mean over the m rows (SMA iterations) of column c of an m x C buffer.
MABDET_HD double column_mean(const float* buf, int m, int C, int c) {
  double acc = 0;
  for (int i = 0; i < m; ++i) acc += buf[size_t(i) * C + c];
  return acc / m;
}

// bn, brn, sync_bn: mean = sum / count (training, before the second pass over x).
struct BatchMean {
  const float* sum;
  float* mean;
  double count;
  MABDET_HD void operator()(int c) const { mean[c] = float(double(sum[c]) / count); }
};

// bn, brn, sync_bn forward: the normalization (istd) from the batch statistics (train: dot is
// the sum of squared deviations over count values) or the running ones; the affine map
// y = x * scale + shift; brn's r and d (where r is set: renormalizing towards the running
// statistics within rmax and dmax, in inference r = 1 and d = 0); then, in training, the running
// statistics (PyTorch's: the unbiased variance), updated after the brn step has read them.
struct BatchStatsForward {
  const float *dot, *gamma, *beta;
  float *mean, *istd, *scale, *shift, *running_mean, *running_var;
  float *r, *d;  // brn only (else null)
  double count, eps, rmax, dmax;
  float momentum;
  bool train;
  MABDET_HD void operator()(int c) const {
    if (train) {
      istd[c] = float(1.0 / sqrt(double(dot[c]) / count + eps));
    } else {
      mean[c] = running_mean[c];
      istd[c] = float(1.0 / sqrt(double(running_var[c]) + eps));
    }
    if (r && train) {
      const double sigma_b = sqrt(double(dot[c]) / count + eps);
      const double sigma = sqrt(double(running_var[c]) + eps);
      const double rc = clamp(sigma_b / sigma, 1.0 / rmax, rmax);
      const double dc = clamp((double(mean[c]) - running_mean[c]) / sigma, -dmax, dmax);
      r[c] = float(rc);
      d[c] = float(dc);
      scale[c] = float(gamma[c] * rc / sigma_b);
      shift[c] = float(beta[c] + gamma[c] * dc - mean[c] * (gamma[c] * rc / sigma_b));
    } else {
      if (r) {
        r[c] = 1.f;
        d[c] = 0.f;
      }
      scale[c] = gamma[c] * istd[c];
      shift[c] = beta[c] - mean[c] * scale[c];
    }
    if (train) {
      running_mean[c] = momentum * running_mean[c] + (1 - momentum) * mean[c];
      running_var[c] = float(momentum * running_var[c] + (1 - momentum) * (double(dot[c]) / (count - 1)));
    }
  }
};

// bn, brn backward, with sum = sum dy and dot = sum dy (x - mean) over count values:
//   dgamma += sum dy (r xhat + d), dbeta += sum dy, and dx = a dy + b x + c where
//   a = gamma r istd and, with live batch statistics (train), b and c carry the terms through
//   the mean and the variance. r and d null: 1 and 0.
struct BatchStatsBackward {
  const float *istd, *r, *d, *gamma, *sum, *dot, *mean;
  float *dgamma, *dbeta, *a, *b, *cc;
  double count;
  bool train;
  MABDET_HD void operator()(int c) const {
    const double is = istd[c], rc = r ? r[c] : 1.0, ac = double(gamma[c]) * rc * is;
    double dg = rc * is * dot[c];
    if (d) dg += d[c] * double(sum[c]);
    dgamma[c] += float(dg);
    dbeta[c] += sum[c];
    a[c] = float(ac);
    if (train) {
      const double bc = -ac * is * is * dot[c] / count;  // times (x - mean)
      b[c] = float(bc);
      cc[c] = float(-ac * sum[c] / count - bc * mean[c]);
    }
  }
};

// bn, brn inference as y = x * scale + shift (what folds into a conv).
struct BatchStatsInference {
  const float *gamma, *beta, *running_mean, *running_var;
  float *scale, *shift;
  double eps;
  MABDET_HD void operator()(int c) const {
    scale[c] = float(gamma[c] / sqrt(double(running_var[c]) + eps));
    shift[c] = beta[c] - running_mean[c] * scale[c];
  }
};

// frozen_bn: Detectron2's scale = gamma / sqrt(var + eps), shift = beta - mean * scale, the
// shift taken with the scale in double.
struct FrozenAffine {
  const float *gamma, *beta, *running_mean, *running_var;
  float *scale, *shift;
  double eps;
  MABDET_HD void operator()(int c) const {
    const double a = gamma[c] / sqrt(double(running_var[c]) + eps);
    scale[c] = float(a);
    shift[c] = float(beta[c] - running_mean[c] * a);
  }
};

// mabn training forward (MABN.md): row `row` of the m x C buffer takes this iteration's E[x^2]
// (dot = sum x^2 over count values; null: the caller wrote the row, as synced statistics do);
// var is that row alone during warm-up (batch_only), else the SMA over the buffer; then
// s = sqrt(var + eps), r = s / sqrt(running_var + eps) within [1/rmax, rmax], y = a x + beta with
// a = gamma r / s, and the running variance moves towards var.
struct MabnForward {
  const float *dot, *gamma;
  float *buf_x2, *s, *r, *a, *running_var;
  int m, row, C;
  double count, rmax, eps;
  float momentum;
  bool batch_only;
  MABDET_HD void operator()(int c) const {
    float* rw = buf_x2 + size_t(row) * C;
    if (dot) rw[c] = float(double(dot[c]) / count);
    const double var = batch_only ? double(rw[c]) : column_mean(buf_x2, m, C, c);
    const double sd = sqrt(var + eps);
    s[c] = float(sd);
    r[c] = float(clamp(sd / sqrt(double(running_var[c]) + eps), 1.0 / rmax, rmax));
    a[c] = float(gamma[c] * double(r[c]) / sd);
    running_var[c] = float(momentum * double(running_var[c]) + (1 - momentum) * var);
  }
};

// mabn training backward: row `row` of buf_gz takes E[g z] = gamma (r / s) E[dy x] (dot_all, in
// double, where the ranks summed it; else dot), mgz is that row or the SMA, and
// dx = a dy + b x with b = -mgz / s^2; dgamma += (r / s) sum dy x, dbeta += sum dy (this
// rank's own sums).
struct MabnBackward {
  const float *sum, *dot, *gamma, *r, *s;
  const double* dot_all;  // host only (synced statistics), else null
  float *buf_gz, *dgamma, *dbeta, *b;
  int m, row, C;
  double count;
  bool batch_only;
  MABDET_HD void operator()(int c) const {
    const double rs = double(r[c]) / s[c];
    const double sum_dyx = dot_all ? dot_all[c] : double(dot[c]);
    float* rw = buf_gz + size_t(row) * C;
    rw[c] = float(gamma[c] * rs * sum_dyx / count);
    const double mgz = batch_only ? double(rw[c]) : column_mean(buf_gz, m, C, c);
    dgamma[c] += float(rs * dot[c]);
    dbeta[c] += sum[c];
    b[c] = float(-mgz / (double(s[c]) * s[c]));
  }
};

// mabn inference: a = gamma / sqrt(running_var + eps) (the forward's scale, and what folds);
// with param_grads also the backward's dgamma += sum dy x / sqrt(running_var + eps), dbeta += sum dy.
struct MabnInference {
  const float *gamma, *running_var, *sum, *dot;
  float *a, *dgamma, *dbeta;
  double eps;
  bool param_grads;
  MABDET_HD void operator()(int c) const {
    if (param_grads) {
      dgamma[c] += float(dot[c] / sqrt(double(running_var[c]) + eps));
      dbeta[c] += sum[c];
    } else {
      a[c] = float(gamma[c] / sqrt(double(running_var[c]) + eps));
    }
  }
};

// gn, one index per (sample n, group g) with k0 = n*C + g*cg the group's first plane: the
// group's mean from its planes' sums, written to each of its cg planes.
struct GroupMean {
  const float* psum;
  float* mean;
  int C, cg, groups;
  double count;
  MABDET_HD void operator()(int k) const {
    const size_t k0 = size_t(k / groups) * C + size_t(k % groups) * cg;
    double acc = 0;
    for (int j = 0; j < cg; ++j) acc += psum[k0 + j];
    for (int j = 0; j < cg; ++j) mean[k0 + j] = float(acc / count);
  }
};

// gn: the group's rstd from its planes' squared deviations, and each plane's affine map.
struct GroupForward {
  const float *pdot, *gamma, *beta, *mean;
  float *rstd, *scale, *shift;
  int C, cg, groups;
  double count, eps;
  MABDET_HD void operator()(int k) const {
    const int g = k % groups;
    const size_t k0 = size_t(k / groups) * C + size_t(g) * cg;
    double acc = 0;
    for (int j = 0; j < cg; ++j) acc += pdot[k0 + j];
    const float rs = float(1.0 / sqrt(acc / count + eps));
    for (int j = 0; j < cg; ++j) {
      const int c = g * cg + j;
      rstd[k0 + j] = rs;
      scale[k0 + j] = gamma[c] * rs;
      shift[k0 + j] = beta[c] - mean[k0 + j] * scale[k0 + j];
    }
  }
};

// gn backward per (n, g), with psum = sum dy and pdot = sum dy (x - mean) per plane and
// dxhat = dy gamma[c]: dx = rstd (dxhat - mean_group(dxhat) - xhat mean_group(dxhat xhat)) as
// a dy + b x + c per plane.
struct GroupBackward {
  const float *psum, *pdot, *rstd, *gamma, *mean;
  float *a, *b, *cc;
  int C, cg, groups;
  double count;
  MABDET_HD void operator()(int k) const {
    const int g = k % groups;
    const size_t k0 = size_t(k / groups) * C + size_t(g) * cg;
    const double rs = rstd[k0];
    double sum_dxhat = 0, sum_dxhat_xhat = 0;
    for (int j = 0; j < cg; ++j) {
      const int c = g * cg + j;
      sum_dxhat += double(gamma[c]) * psum[k0 + j];
      sum_dxhat_xhat += double(gamma[c]) * pdot[k0 + j] * rs;
    }
    const double bk = -rs * rs * sum_dxhat_xhat / count;  // times (x - mean)
    for (int j = 0; j < cg; ++j) {
      a[k0 + j] = float(rs * gamma[g * cg + j]);
      b[k0 + j] = float(bk);
      cc[k0 + j] = float(-rs * sum_dxhat / count - bk * mean[k0 + j]);
    }
  }
};

// gn's parameter gradients, one index per channel (the samples add into the same dgamma[c], so
// they are summed here in sample order rather than by the per-group threads).
struct GroupParamGrads {
  const float *psum, *pdot, *rstd;
  float *dgamma, *dbeta;
  int N, C;
  MABDET_HD void operator()(int c) const {
    for (int n = 0; n < N; ++n) {
      const size_t k = size_t(n) * C + c;
      dgamma[c] += float(pdot[k] * double(rstd[k]));
      dbeta[c] += psum[k];
    }
  }
};
}  // namespace mabdet::norm_kern
