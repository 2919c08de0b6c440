#include "mabdet/trainer.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>

namespace mabdet {

Trainer::Trainer(Network& net, Context& ctx)
    : net_(net), ctx_(ctx), sgd_(net.params(), net.config().momentum, net.config().decay) {
  net_.zero_grads();
}

void Trainer::resume(const std::string& weights_path) {
  progress_ = load_weights(weights_path, net_, &sgd_.velocity());
  std::fprintf(stderr, "resumed %s at step %lld\n", weights_path.c_str(), (long long)progress_.steps);
}

double Trainer::run(const BatchLoader& load, const TrainOptions& opt) {
  const NetConfig& c = net_.config();
  if (c.max_batches <= 0) fail("[net] max_batches must be set (> 0) to train");
  if (!opt.backup_dir.empty()) mkdir(opt.backup_dir.c_str(), 0755);
  auto ckpt = [&](const char* suffix) {
    if (opt.backup_dir.empty()) return;
    std::string path = cat(opt.backup_dir, "/", opt.name, suffix);
    save(path);
    std::fprintf(stderr, "saved %s\n", path.c_str());
  };
  ctx_.train = true;
  ctx_.loss_scale = 1.f / c.batch;
  double step_loss = 0, avg = -1;
  auto t0 = std::chrono::steady_clock::now();
  int64_t done_here = 0;
  while (progress_.steps < c.max_batches) {
    const int64_t step = progress_.steps;
    ctx_.iteration = step;
    step_loss = 0;
    for (int sub = 0; sub < c.subdivisions; ++sub) {
      const Tensor& input = load(step, sub, ctx_);
      net_.forward(ctx_, input);
      net_.backward(ctx_);
      step_loss += net_.loss();
    }
    const float lr = learning_rate_at(c, step);
    sgd_.step(lr);
    net_.zero_grads();
    progress_.steps++;
    progress_.images_seen += c.batch;
    avg = avg < 0 ? step_loss : 0.95 * avg + 0.05 * step_loss;
    if (progress_.steps % opt.log_every == 0 || progress_.steps == c.max_batches) {
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("step %lld/%d  loss %.4f  avg %.4f  lr %.5g  %.1f img/s\n", (long long)progress_.steps, c.max_batches,
                  step_loss, avg, lr, (done_here + 1) * c.batch / s);
      std::fflush(stdout);
    }
    ++done_here;
    if (opt.save_every > 0 && progress_.steps % opt.save_every == 0) ckpt("_last.weights");
    // Stopping on the last step is finishing: fall through to the _final checkpoint, which is
    // what classifier_train then reads.
    if (opt.stop_after >= 0 && done_here >= opt.stop_after && progress_.steps < c.max_batches) {
      ckpt("_last.weights");
      return step_loss;
    }
  }
  ckpt("_final.weights");
  ctx_.train = false;
  return step_loss;
}

}  // namespace mabdet
