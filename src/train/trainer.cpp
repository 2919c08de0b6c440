#include "mabdet/trainer.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace mabdet {
namespace {
void add_terms(std::vector<LossTerm>& sum, const std::vector<LossTerm>& more) {
  for (const LossTerm& t : more) {
    auto it = std::find_if(sum.begin(), sum.end(), [&](const LossTerm& x) { return x.name == t.name; });
    if (it == sum.end()) sum.push_back(t);
    else it->value += t.value;
  }
}

std::string terms_str(const std::vector<LossTerm>& terms) {
  std::string s;
  char v[32];
  for (const LossTerm& t : terms) {
    std::snprintf(v, sizeof v, "%.4f", t.value);
    s += cat(s.empty() ? "" : " ", t.name, " ", v);
  }
  return s;
}
}  // namespace

void Trainer::save(const std::string& path) {
  for (int k = 0; k < 4; ++k) progress_.rng[k] = ctx_.rng.state()[k];
  progress_.data_epoch = ctx_.data_epoch;
  progress_.data_index = ctx_.data_index;
  progress_.has_stream = true;
  save_weights(path, net_, progress_, &sgd_.velocity());
}

Trainer::Trainer(Network& net, Context& ctx)
    : net_(net), ctx_(ctx), sgd_(net.params(), net.config().momentum, net.config().decay) {
  net_.zero_grads();
}

void Trainer::resume(const std::string& weights_path) {
  progress_ = load_weights(weights_path, net_, &sgd_.velocity());
  if (progress_.has_stream) {
    for (int k = 0; k < 4; ++k) ctx_.rng.state()[k] = progress_.rng[k];
    ctx_.data_epoch = progress_.data_epoch;
    ctx_.data_index = progress_.data_index;
  }
  std::fprintf(stderr, "resumed %s at step %lld\n", weights_path.c_str(), (long long)progress_.steps);
}

double Trainer::run(const SubBatchSource& load, const TrainOptions& opt) {
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
  std::vector<LossTerm> terms;
  auto t0 = std::chrono::steady_clock::now();
  int64_t done_here = 0;
  while (progress_.steps < c.max_batches) {
    const int64_t step = progress_.steps;
    ctx_.iteration = step;
    step_loss = 0;
    terms.clear();
    for (int sub = 0; sub < c.subdivisions; ++sub) {
      const Tensor& input = load(step, sub, ctx_);
      net_.forward(ctx_, input);
      net_.backward(ctx_);
      step_loss += net_.loss();
      add_terms(terms, net_.loss_terms());
    }
    const float lr = learning_rate_at(c, step);
    sgd_.step(lr);
    net_.zero_grads();
    progress_.steps++;
    progress_.images_seen += c.batch;
    avg = avg < 0 ? step_loss : 0.95 * avg + 0.05 * step_loss;
    if (progress_.steps % opt.log_every == 0 || progress_.steps == c.max_batches) {
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("step %lld/%d  loss %.4f  avg %.4f  lr %.5g  %.1f img/s  [%s]\n", (long long)progress_.steps,
                  c.max_batches, step_loss, avg, lr, (done_here + 1) * c.batch / s, terms_str(terms).c_str());
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
