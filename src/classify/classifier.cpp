#include "mabdet/classifier.h"

#include <cstdio>
#include <algorithm>
#include <numeric>

#include "mabdet/cfg.h"
#include "mabdet/shapes.h"
#include "mabdet/trainer.h"
#include "mabdet/weights.h"

namespace mabdet {
namespace {
// Validation images come from their own stream, so they are never training images.
constexpr uint64_t kValidStream = 0x5EED5EEDULL;

std::string base_name(const std::string& path) {
  size_t slash = path.find_last_of('/');
  std::string b = slash == std::string::npos ? path : path.substr(slash + 1);
  size_t dot = b.find_last_of('.');
  return dot == std::string::npos ? b : b.substr(0, dot);
}

void check_net_for(const Network& net, const ShapesData& d, const std::string& cfg) {
  const NetConfig& c = net.config();
  if (c.width != c.height) fail(cfg, ": [net] width and height must be equal for the shapes data");
  if (c.channels != 3) fail(cfg, ": [net] channels must be 3 for the shapes data");
  if (net.output().shape().chw() != size_t(d.classes))
    fail(cfg, ": the last layer gives ", net.output().shape().chw(), " values per image, the data has classes=", d.classes);
}
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
  s.check_unused();
  return d;
}

int64_t ShapesSampler::train_index(int64_t position) {
  int64_t epoch = position / d_.train_size;
  if (epoch != epoch_) {
    perm_.resize(size_t(d_.train_size));
    std::iota(perm_.begin(), perm_.end(), 0);
    Rng rng(d_.seed * 1000003ULL + uint64_t(epoch));
    for (size_t i = perm_.size(); i-- > 1;) std::swap(perm_[i], perm_[size_t(rng.next() % (i + 1))]);
    epoch_ = epoch;
  }
  return perm_[size_t(position % d_.train_size)];
}

void ShapesSampler::train_batch(int64_t first, int n, Tensor& images, IndexTensor& labels) {
  images.reshape(n, 3, size_, size_);
  labels.reshape(n, 1);
  for (int i = 0; i < n; ++i)
    labels[i] = render_shape_image(d_.seed, train_index(first + i), size_, images.data() + size_t(i) * images.shape().chw());
}

void ShapesSampler::valid_batch(int64_t first, int n, Tensor& images, IndexTensor& labels) const {
  images.reshape(n, 3, size_, size_);
  labels.reshape(n, 1);
  for (int i = 0; i < n; ++i)
    labels[i] = render_shape_image(d_.seed ^ kValidStream, first + i, size_, images.data() + size_t(i) * images.shape().chw());
}

std::string classifier_train(const std::string& cfg, const std::string& data, const ClassifierTrainOptions& opt) {
  ShapesData d = read_shapes_data(data);
  Network net = Network::from_file(cfg);
  check_net_for(net, d, cfg);
  net.print_table(stderr);
  Context ctx;
  ctx.rng.seed_with(net.config().seed);
  Trainer trainer(net, ctx);
  if (!opt.weights.empty()) trainer.resume(opt.weights);
  ShapesSampler sampler(d, net.config().width);
  Tensor images;
  IndexTensor labels;
  const NetConfig& c = net.config();
  SubBatchSource load = [&](int64_t step, int sub, Context& cx) -> const Tensor& {
    sampler.train_batch(step * c.batch + int64_t(sub) * c.sub_batch(), c.sub_batch(), images, labels);
    cx.labels = &labels;
    return images;
  };
  TrainOptions to;
  to.backup_dir = d.backup;
  to.name = base_name(cfg);
  to.stop_after = opt.stop_after;
  to.log_every = opt.log_every;
  to.save_every = opt.save_every;
  trainer.run(load, to);
  bool finished = trainer.progress().steps >= c.max_batches;
  return cat(d.backup, "/", to.name, finished ? "_final.weights" : "_last.weights");
}

double classifier_valid(const std::string& cfg, const std::string& data, const std::string& weights, bool verbose) {
  ShapesData d = read_shapes_data(data);
  Network net = Network::from_file(cfg);
  check_net_for(net, d, cfg);
  load_weights(weights, net, nullptr);
  Context ctx;
  ctx.train = false;
  ShapesSampler sampler(d, net.config().width);
  Tensor images;
  IndexTensor labels;
  const int chunk = 50;
  int64_t correct = 0;
  std::vector<int64_t> per_class(d.classes, 0), per_class_n(d.classes, 0);
  for (int64_t first = 0; first < d.valid_size; first += chunk) {
    int n = int(std::min<int64_t>(chunk, d.valid_size - first));
    sampler.valid_batch(first, n, images, labels);
    ctx.labels = &labels;
    const Tensor& out = net.forward(ctx, images);
    const size_t k = out.shape().chw();
    for (int i = 0; i < n; ++i) {
      const float* p = out.data() + i * k;
      int best = int(std::max_element(p, p + k) - p);
      correct += best == labels[i];
      per_class[labels[i]] += best == labels[i];
      per_class_n[labels[i]]++;
    }
  }
  double top1 = double(correct) / d.valid_size;
  if (verbose) {
    for (int c = 0; c < d.classes; ++c)
      std::printf("  %-10s %.4f (%lld images)\n", shape_class_name(c),
                  per_class_n[c] ? double(per_class[c]) / per_class_n[c] : 0.0, (long long)per_class_n[c]);
  }
  std::printf("top-1: %.4f (%lld/%lld)\n", top1, (long long)correct, (long long)d.valid_size);
  return top1;
}

}  // namespace mabdet
