#include "mabdet/classifier.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "mabdet/cfg.h"
#include "mabdet/device_choice.h"
#include "mabdet/file_check.h"
#include "mabdet/ops.h"
#include "mabdet/shard.h"
#include "mabdet/threads.h"
#include "mabdet/trainer.h"
#include "mabdet/weights.h"

namespace mabdet {
namespace {
void check_net_for(const Network& net, const ClassifierData& d, const std::string& cfg) {
  const NetConfig& c = net.config();
  if (d.generated && c.width != c.height) fail(cfg, ": [net] width and height must be equal for the shapes data");
  if (c.channels != 3) fail(cfg, ": [net] channels must be 3 for ", d.generated ? "the shapes data" : "RGB images");
  if (net.output().shape().chw() != size_t(d.classes()))
    fail(cfg, ": the last layer gives ", net.output().shape().chw(), " values per image, the data has classes=", d.classes());
}
}  // namespace

std::string classifier_train(const std::string& cfg, const std::string& data, const ClassifierTrainOptions& opt) {
  ClassifierData d = read_classifier_data(data);
  Network net = Network::from_file(cfg);
  check_net_for(net, d, cfg);
  net.to(opt.device);
  const ShardPlan plan = shard_plan(net.config(), opt.comm);
  if (is_root(opt.comm)) {
    net.print_table(stderr);
    std::fprintf(stderr, "%s\n", shard_line(net.config(), plan, opt.comm, cfg_uses_norm(cfg, "sync_bn")).c_str());
    // A run is bit-identical to another of the same binary, seed and thread counts.
    std::fprintf(stderr, "seed %llu, %s, training on %s\n", (unsigned long long)net.config().seed,
                 thread_summary(0).c_str(), device_label(opt.device).c_str());
  }
  Context ctx;
  ctx.device = opt.device;
  ctx.comm = opt.comm;
  ctx.rng.seed_with(net.config().seed);
  Trainer trainer(net, ctx);
  if (!opt.weights.empty()) trainer.resume(opt.weights);
  std::unique_ptr<ClassSampler> sampler = make_sampler(d, net.config());
  Tensor host_images, images(Shape{}, opt.device);  // the sampler's, and their copy on the device
  IndexTensor labels;
  const NetConfig& c = net.config();
  const int64_t epoch_size = sampler->train_size();
  if (!trainer.progress().has_stream) {  // a fresh run, or a version-1 checkpoint
    if (trainer.progress().steps > INT64_MAX / c.batch)
      fail(opt.weights, ": step count ", trainer.progress().steps, " is beyond any run (corrupt file?)");
    const int64_t pos = trainer.progress().steps * c.batch;
    ctx.data_epoch = pos / epoch_size;
    ctx.data_index = pos % epoch_size;
  } else {
    // The saved data position must lie in this data set: an index past the epoch (another .data
    // file, or a corrupt checkpoint) would read past the shuffle; a huge epoch would overflow.
    if (ctx.data_index >= epoch_size)
      fail(opt.weights, ": data position index ", ctx.data_index, " is not below the epoch size ", epoch_size,
           " of ", data, " (a checkpoint of another data set, or a corrupt file)");
    if (ctx.data_epoch > (INT64_MAX - epoch_size) / epoch_size)
      fail(opt.weights, ": data position epoch ", ctx.data_epoch, " is beyond any run (corrupt file?)");
  }
  // The data position in the Context drives the stream, so a resumed run reads on where it
  // stopped. It marks the start of a step on every rank; sub-batch `sub` of the step starts
  // sub * sub_batch images further, and after the rank's last one the position moves on by the
  // whole step (all ranks' images), as in one process.
  int64_t step_start = 0;
  SubBatchSource load = [&](int64_t, int sub, Context& cx) -> const Tensor& {
    if (sub == plan.first_sub) step_start = cx.data_epoch * epoch_size + cx.data_index;
    const int64_t pos = step_start + int64_t(sub) * c.sub_batch();
    sampler->train_batch(pos, c.sub_batch(), host_images, labels);
    images.copy_from(host_images);
    const int64_t next = sub == plan.first_sub + plan.subdivisions - 1 ? step_start + c.batch : pos + c.sub_batch();
    cx.data_epoch = next / epoch_size;
    cx.data_index = next % epoch_size;
    cx.labels = &labels;
    return images;
  };
  TrainOptions to;
  to.backup_dir = d.backup();
  to.name = file_stem(cfg);
  to.stop_after = opt.stop_after;
  to.log_every = opt.log_every;
  to.save_every = opt.save_every > 0 ? opt.save_every : d.save_every();
  trainer.run(load, to);
  bool finished = trainer.progress().steps >= c.max_batches;
  return cat(d.backup(), "/", to.name, finished ? "_final.weights" : "_last.weights");
}

double classifier_valid(const std::string& cfg, const std::string& data, const std::string& weights, bool verbose,
                        Device device) {
  ClassifierData d = read_classifier_data(data);
  Network net = Network::from_file(cfg);
  check_net_for(net, d, cfg);
  load_weights(weights, net, nullptr);
  net.to(device);
  Context ctx;
  ctx.train = false;
  ctx.device = device;
  std::unique_ptr<ClassSampler> sampler = make_sampler(d, net.config());
  const int64_t size = sampler->valid_size();
  Tensor images, on_device(Shape{}, device), probs;
  IndexTensor labels;
  const int chunk = 50;
  int64_t correct = 0;
  std::vector<int64_t> per_class(d.classes(), 0), per_class_n(d.classes(), 0);
  for (int64_t first = 0; first < size; first += chunk) {
    int n = int(std::min<int64_t>(chunk, size - first));
    sampler->valid_batch(first, n, images, labels);
    ctx.labels = &labels;
    on_device.copy_from(images);
    probs.copy_from(net.forward(ctx, on_device));  // to the host
    const Tensor& out = probs;
    const size_t k = out.shape().chw();
    for (int i = 0; i < n; ++i) {
      const float* p = out.data() + i * k;
      int best = int(std::max_element(p, p + k) - p);
      correct += best == labels[i];
      per_class[labels[i]] += best == labels[i];
      per_class_n[labels[i]]++;
    }
  }
  double top1 = double(correct) / size;
  if (verbose) {
    for (int c = 0; c < d.classes(); ++c)
      std::printf("  %-10s %.4f (%lld images)\n", d.class_name(c).c_str(),
                  per_class_n[c] ? double(per_class[c]) / per_class_n[c] : 0.0, (long long)per_class_n[c]);
  }
  std::printf("top-1: %.4f (%lld/%lld)\n", top1, (long long)correct, (long long)size);
  return top1;
}

}  // namespace mabdet
