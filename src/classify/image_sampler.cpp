#include <exception>

#include "mabdet/classifier.h"
#include "mabdet/data/crop.h"
#include "mabdet/data/image.h"
#include "mabdet/error.h"
#include "mabdet/rng.h"

namespace mabdet {

void ImageSetSampler::load(const ImageSet& set, const std::vector<int64_t>& index, const std::vector<char>& flip,
                           Tensor& images, IndexTensor& labels) const {
  const int n = int(index.size());
  images.reshape(n, 3, h_, w_);
  labels.reshape(n, 1);
  // Exceptions must not leave an OpenMP region: keep each image's error, report the first.
  std::vector<std::string> errors(static_cast<size_t>(n));
#pragma omp parallel for schedule(dynamic)
  for (int i = 0; i < n; ++i) {
    const size_t k = size_t(index[size_t(i)]);
    try {
      Image im = decode_image(set.paths[k]);
      std::vector<float> scratch;
      resize_center_crop(im, w_, h_, flip[size_t(i)], d_.mean, d_.std, images.data() + size_t(i) * images.shape().chw(),
                         scratch);
    } catch (const std::exception& e) {
      errors[size_t(i)] = set.lines.empty() ? e.what() : cat(set.origin(k), ": ", e.what());
    }
    labels[size_t(i)] = set.labels[k];
  }
  for (const std::string& e : errors)
    if (!e.empty()) throw Error(e);
}

void ImageSetSampler::train_batch(int64_t first, int n, Tensor& images, IndexTensor& labels) {
  std::vector<int64_t> index(static_cast<size_t>(n));
  std::vector<char> flip(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const int64_t pos = first + i;
    index[size_t(i)] = order_.index(pos);
    // Its own stream per training position (epoch * size + place in the epoch).
    Rng rng(d_.seed * 0x9E3779B97F4A7C15ULL ^ uint64_t(pos + 1) * 0xD1B54A32D192ED03ULL);
    flip[size_t(i)] = rng.uniform() < d_.flip_prob;
  }
  load(d_.train, index, flip, images, labels);
}

void ImageSetSampler::valid_batch(int64_t first, int n, Tensor& images, IndexTensor& labels) {
  std::vector<int64_t> index(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) index[size_t(i)] = first + i;
  load(d_.valid, index, std::vector<char>(size_t(n), 0), images, labels);
}

}  // namespace mabdet
