// What the detector sections share: the batch's ground truth, the image sizes proposals are
// clipped to, the two losses the heads use, and the small-std init the peers give head layers.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "mabdet/cfg.h"
#include "mabdet/context.h"
#include "mabdet/data/batch.h"
#include "mabdet/layer.h"
#include "mabdet/rng.h"

namespace mabdet {

// The detection batch of a training forward; fails naming `layer` when there is none (a detector
// cfg trained by a job that gives no boxes), or when it does not hold `n` images.
const Batch& train_batch(const Context& ctx, const char* layer, int n);
// Image i's unpadded size in the network input: its plan when a batch is given, else the padded
// input size (height, width), e.g. for a benchmark without data.
void image_size(const Context& ctx, int i, int padded_h, int padded_w, int& h, int& w);
// Rows of `image` (R) equal to i, ascending.
void rows_of_image(const IndexTensor& image, int i, std::vector<int>& rows);

// Binary cross-entropy with logits for target y in {0, 1}; grad = sigmoid(x) - y.
inline double bce_logits(float x, float y, float& grad) {
  const double s = 1.0 / (1.0 + std::exp(-double(x)));
  grad = float(s - y);
  return std::max(double(x), 0.0) - double(x) * y + std::log1p(std::exp(-std::fabs(double(x))));
}
// Smooth L1 with transition beta (beta = 0: L1), as Detectron2's smooth_l1_loss; grad = dl/dd.
inline double smooth_l1(float d, float beta, float& grad) {
  const double a = std::fabs(double(d));
  if (a < beta) {
    grad = float(d / beta);
    return 0.5 * a * a / beta;
  }
  grad = d > 0 ? 1.f : d < 0 ? -1.f : 0.f;
  return a - 0.5 * beta;
}
// Reads box_loss= (smooth_l1 | l1) and smooth_l1_beta= into beta (l1 -> 0).
float read_box_loss_beta(const Section& sec, float default_beta);

// The number of object classes of a head section: its classes= or [net]'s (required).
int classes_key(const Scope& cfg);

// Every weight of `params` whose name is "weights" drawn from N(0, std), biases zeroed: the init
// Detectron2 and torchvision give RPN and predictor layers (a He init would start the logits far
// from 0).
void normal_init(const std::vector<Param>& params, double std, Rng& rng);

}  // namespace mabdet
