// The classification job (`mabdet classifier train|valid`): on the generated shapes dataset (the
// project's first end-to-end run, and the small-scale check of the MABN paper's claim) or on
// labelled image files (an ImageNet-style folder or a `path label` list), e.g. to pretrain a
// backbone. Keys of both kinds of .data file: docs/data.md.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mabdet/comm.h"
#include "mabdet/data/image_set.h"
#include "mabdet/network.h"

namespace mabdet {

// A `.data` file for the generated shapes: classes=10, generator=shapes, train_size, valid_size,
// seed, backup, save_every.
struct ShapesData {
  int classes = 10;
  int64_t train_size = 50000;
  int64_t valid_size = 2000;
  uint64_t seed = 1;
  std::string backup = "backup";
  int save_every = 1000;  // steps between NAME_last.weights checkpoints
};
ShapesData read_shapes_data(const std::string& path);

// A `.data` file naming labelled images: train= or train_list=, valid= or valid_list=, names=,
// classes=, seed=, backup=, save_every=, mean=, std=, flip=. Paths resolve against the .data
// file's folder.
struct ImageSetData {
  ImageSet train, valid;
  std::vector<std::string> names;  // class names in label order ("0", "1", ... when none given)
  float mean[3] = {123.675f, 116.28f, 103.53f};  // R,G,B on the 0..255 scale (ImageNet's)
  float std[3] = {58.395f, 57.12f, 57.375f};
  float flip_prob = 0.5f;  // horizontal flips when training
  uint64_t seed = 1;       // training order and flips
  std::string backup = "backup";
  int save_every = 1000;
};
ImageSetData read_image_set_data(const std::string& path);

// Either kind: a file naming train=, train_list=, valid= or valid_list= is an image set, any other
// the generated shapes (read exactly as before image sets existed).
struct ClassifierData {
  bool generated = true;
  ShapesData shapes;    // generated
  ImageSetData images;  // !generated
  int classes() const { return generated ? shapes.classes : int(images.names.size()); }
  const std::string& backup() const { return generated ? shapes.backup : images.backup; }
  int save_every() const { return generated ? shapes.save_every : images.save_every; }
  std::string class_name(int c) const;
};
ClassifierData read_classifier_data(const std::string& path);
// The save_every= key of either kind (1..1e9, default 1000).
class Section;
int read_save_every(const Section& s);

// Fills images (N, 3, H, W) and labels: training positions [first, first + n) walk a fresh
// permutation of the train set each epoch (a function of seed and epoch, so runs resume exactly);
// validation reads its set in order.
class ClassSampler {
 public:
  virtual ~ClassSampler() = default;
  virtual void train_batch(int64_t first, int n, Tensor& images, IndexTensor& labels) = 0;
  virtual void valid_batch(int64_t first, int n, Tensor& images, IndexTensor& labels) = 0;
  virtual int64_t valid_size() const = 0;
  virtual int64_t train_size() const = 0;  // images per epoch
};

// Position -> index in a per-epoch shuffle of [0, n).
class EpochOrder {
 public:
  EpochOrder(uint64_t seed, int64_t n) : seed_(seed), n_(n) {}
  int64_t index(int64_t position);
  int64_t epoch_of(int64_t position) const { return position / n_; }

 private:
  uint64_t seed_;
  int64_t n_;
  int64_t epoch_ = -1;
  std::vector<int64_t> perm_;
};

class ShapesSampler : public ClassSampler {
 public:
  ShapesSampler(const ShapesData& d, int size) : d_(d), size_(size), order_(d.seed, d.train_size) {}
  void train_batch(int64_t first, int n, Tensor& images, IndexTensor& labels) override;
  void valid_batch(int64_t first, int n, Tensor& images, IndexTensor& labels) override;
  int64_t valid_size() const override { return d_.valid_size; }
  int64_t train_size() const override { return d_.train_size; }
  // The dataset index of the image at training position `position` (what train_batch renders).
  int64_t train_index(int64_t position) { return order_.index(position); }

 private:
  ShapesData d_;
  int size_;
  EpochOrder order_;
};

// Decodes, resizes to cover width x height and centre-crops (resize_center_crop); training images
// are flipped with probability flip_prob, drawn from (seed, position). Images of a batch decode in
// parallel; each lands in its own slot, so the batch does not depend on the thread count.
// `d` must outlive the sampler (an image list can be large; it is not copied).
class ImageSetSampler : public ClassSampler {
 public:
  ImageSetSampler(const ImageSetData& d, int width, int height)
      : d_(d), w_(width), h_(height), order_(d.seed, int64_t(d.train.size())) {}
  void train_batch(int64_t first, int n, Tensor& images, IndexTensor& labels) override;
  void valid_batch(int64_t first, int n, Tensor& images, IndexTensor& labels) override;
  int64_t valid_size() const override { return int64_t(d_.valid.size()); }
  int64_t train_size() const override { return int64_t(d_.train.size()); }

 private:
  void load(const ImageSet& set, const std::vector<int64_t>& index, const std::vector<char>& flip, Tensor& images,
            IndexTensor& labels) const;
  const ImageSetData& d_;
  int w_, h_;
  EpochOrder order_;
};

std::unique_ptr<ClassSampler> make_sampler(const ClassifierData& d, const NetConfig& c);

struct ClassifierTrainOptions {
  std::string weights;  // resume from this checkpoint ("" = fresh init)
  int64_t stop_after = -1;
  int log_every = 50;
  int save_every = 0;  // 0: the .data file's save_every (default 1000)
  // Data-parallel ranks (null: this process alone). Each rank reads its shard of every step
  // from the same stream one process would read (mabdet/shard.h); rank 0 logs and saves.
  Comm* comm = nullptr;
  // Where the network trains (mabdet/device_choice.h picks it); images and labels are uploaded
  // per sub-batch, checkpoints are the same file on either device.
  Device device = Device::CPU;
};
// Trains and returns the path of the final (or last, when stopped early) checkpoint (written
// by rank 0; every rank returns the same path).
std::string classifier_train(const std::string& cfg, const std::string& data, const ClassifierTrainOptions& opt);
// Top-1 accuracy on the validation set.
double classifier_valid(const std::string& cfg, const std::string& data, const std::string& weights, bool verbose,
                        Device device = Device::CPU);

}  // namespace mabdet
