// The generated shapes as a classifier dataset. The numbers here are what scripts/paper_claim.sh
// measured: the images, their order and the .data keys must not change.
#include <algorithm>
#include <numeric>

#include "mabdet/cfg.h"
#include "mabdet/classifier.h"
#include "mabdet/rng.h"
#include "mabdet/shapes.h"

namespace mabdet {
namespace {
// Validation images come from their own stream, so they are never training images.
constexpr uint64_t kValidStream = 0x5EED5EEDULL;
}  // namespace

ShapesData read_shapes_data(const std::string& path) {
  Section s = parse_kv(path);
  ShapesData d;
  s.get_choice("generator", "shapes", {"shapes"});
  d.classes = s.get_int("classes", kShapeClasses);
  if (d.classes != kShapeClasses) s.fail_key("classes", cat("the shapes generator has ", kShapeClasses, " classes"));
  d.train_size = s.get_int("train_size", int(d.train_size));
  d.valid_size = s.get_int("valid_size", int(d.valid_size));
  if (d.train_size < 1) s.fail_key("train_size", "must be >= 1");
  if (d.valid_size < 1) s.fail_key("valid_size", "must be >= 1");
  d.seed = uint64_t(s.get_int("seed", 1));
  d.backup = s.get_str("backup", d.backup);
  d.save_every = read_save_every(s);
  s.check_unused();
  return d;
}

int64_t EpochOrder::index(int64_t position) {
  int64_t epoch = position / n_;
  if (epoch != epoch_) {
    perm_.resize(size_t(n_));
    std::iota(perm_.begin(), perm_.end(), 0);
    Rng rng(seed_ * 1000003ULL + uint64_t(epoch));
    for (size_t i = perm_.size(); i-- > 1;) std::swap(perm_[i], perm_[size_t(rng.next() % (i + 1))]);
    epoch_ = epoch;
  }
  return perm_[size_t(position % n_)];
}

void ShapesSampler::train_batch(int64_t first, int n, Tensor& images, IndexTensor& labels) {
  images.reshape(n, 3, size_, size_);
  labels.reshape(n, 1);
  for (int i = 0; i < n; ++i)
    labels[i] = render_shape_image(d_.seed, order_.index(first + i), size_, images.data() + size_t(i) * images.shape().chw());
}

void ShapesSampler::valid_batch(int64_t first, int n, Tensor& images, IndexTensor& labels) {
  images.reshape(n, 3, size_, size_);
  labels.reshape(n, 1);
  for (int i = 0; i < n; ++i)
    labels[i] = render_shape_image(d_.seed ^ kValidStream, first + i, size_, images.data() + size_t(i) * images.shape().chw());
}

}  // namespace mabdet
