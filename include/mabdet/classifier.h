// The classification job (`mabdet classifier train|valid`) on the generated shapes dataset: the
// project's first end-to-end run, and the small-scale check of the MABN paper's claim.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "mabdet/network.h"

namespace mabdet {

// A `.data` file for the generated shapes: classes=10, generator=shapes, train_size, valid_size,
// seed, backup.
struct ShapesData {
  int classes = 10;
  int64_t train_size = 50000;
  int64_t valid_size = 2000;
  uint64_t seed = 1;
  std::string backup = "backup";
};
ShapesData read_shapes_data(const std::string& path);

// Fills images (N, 3, S, S) and labels for training positions [first, first + n): a fresh
// permutation of the train set each epoch, derived from the seed.
class ShapesSampler {
 public:
  ShapesSampler(const ShapesData& d, int size) : d_(d), size_(size) {}
  void train_batch(int64_t first, int n, Tensor& images, IndexTensor& labels);
  void valid_batch(int64_t first, int n, Tensor& images, IndexTensor& labels) const;
  // The dataset index of the image at training position `position` (step * batch + offset).
  int64_t train_index(int64_t position);

 private:
  ShapesData d_;
  int size_;
  int64_t epoch_ = -1;
  std::vector<int64_t> perm_;
};

struct ClassifierTrainOptions {
  std::string weights;  // resume from this checkpoint ("" = fresh init)
  int64_t stop_after = -1;
  int log_every = 50;
  int save_every = 1000;
};
// Trains and returns the path of the final (or last, when stopped early) checkpoint.
std::string classifier_train(const std::string& cfg, const std::string& data, const ClassifierTrainOptions& opt);
// Top-1 accuracy on the validation stream.
double classifier_valid(const std::string& cfg, const std::string& data, const std::string& weights, bool verbose);

}  // namespace mabdet
