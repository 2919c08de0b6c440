#include "mabdet/trainer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "mabdet/comm.h"
#include "mabdet/ops.h"
#include "mabdet/shard.h"
#include "train/grad_reduce.h"

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

// The signal that asked training to stop (0: none). A handler may only set a flag like this.
volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int sig) {
  if (g_stop_signal) {  // the second one: the user insists, end now (saves are atomic anyway)
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_stop_signal = sig;
}

// SIGINT/SIGTERM handlers for the duration of a run; the previous ones come back after it.
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  int pending() const { return g_stop_signal; }

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

// Creates the backup folder and writes a probe file there, so that a bad path fails before the
// first step instead of at the first checkpoint, hours later.
void prepare_backup_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail(dir, ": cannot create the backup folder (", ec.message(), ")");
  if (!fs::is_directory(dir, ec)) fail(dir, ": the backup folder is not a folder");
  const std::string probe = cat(dir, "/.mabdet_probe.", getpid());
  std::FILE* f = std::fopen(probe.c_str(), "wb");
  bool ok = f && std::fputc('x', f) != EOF;
  int e = errno;
  if (f && std::fclose(f) != 0 && ok) {
    ok = false;
    e = errno;
  }
  std::remove(probe.c_str());
  if (!ok) fail(dir, ": the backup folder is not writable (", std::strerror(e), ")");
}

// Gradient buckets of MABDET_BUCKET_MB MiB, default 16 (a step of ResNet-14 or the small
// detector is one call; R50-FPN a few dozen, the first started while backward still runs).
size_t bucket_floats() {
  const char* e = std::getenv("MABDET_BUCKET_MB");
  if (!e || !*e) return size_t(1) << 22;
  char* end = nullptr;
  const double mb = std::strtod(e, &end);
  if (*end || !(mb >= 0.001 && mb <= 4096))
    fail("MABDET_BUCKET_MB='", e, "': expected the all-reduce bucket size in MiB, 0.001..4096");
  return std::max<size_t>(1, size_t(mb * (1 << 20) / sizeof(float)));
}

// The rng of one sub-batch (what the detector's anchor and RoI sampling draw from): a function of
// the step's draw from the run's stream (what checkpoints save) and of the sub-batch's index in
// the step, not of the rank that runs it, so N ranks draw what one process draws.
void seed_sub_rng(uint64_t step_key, int sub, Rng& out) {
  out.seed_with(step_key ^ (uint64_t(sub) + 1) * 0xD1B54A32D192ED03ULL);
}
}  // namespace

void Trainer::save(const std::string& path) {
  // The stream, from which every sub-batch's rng is drawn (ctx_.rng is the current sub-batch's).
  for (int k = 0; k < 4; ++k) progress_.rng[k] = stream_rng_.state()[k];
  progress_.data_epoch = ctx_.data_epoch;
  progress_.data_index = ctx_.data_index;
  progress_.has_stream = true;
  save_weights(path, net_, progress_, &sgd_.velocity());
}

Trainer::Trainer(Network& net, Context& ctx)
    : net_(net), ctx_(ctx), sgd_(net.params(), net.config().momentum, net.config().decay), stream_rng_(ctx.rng) {
  net_.zero_grads();
}

// NAME.weights -> NAME.rankR.weights: still a .weights file, so its save's temporary is one that
// remove_stale_temps() recognizes.
std::string rank_state_path(const std::string& weights_path, int rank) {
  const std::string ext = ".weights";
  const bool has_ext = weights_path.size() > ext.size() && weights_path.compare(weights_path.size() - ext.size(), ext.size(), ext) == 0;
  return has_ext ? cat(weights_path.substr(0, weights_path.size() - ext.size()), ".rank", rank, ext)
                 : cat(weights_path, ".rank", rank);
}

void Trainer::resume(const std::string& weights_path) {
  progress_ = load_weights(weights_path, net_, &sgd_.velocity());
  // Ranks > 0 of a data-parallel run take their own norm state (bn's running statistics, MABN's
  // buffers and counter) from their file of the same save; without it they start from rank 0's.
  const int rank = comm_rank(ctx_.comm);
  if (rank > 0) {
    const std::string own = rank_state_path(weights_path, rank);
    std::error_code ec;
    if (std::filesystem::exists(own, ec)) {
      const Progress p = load_weights(own, net_, &sgd_.velocity());
      if (p.steps != progress_.steps) {
        std::fprintf(stderr, "mabdet: rank %d: %s is of step %lld, %s of step %lld: taking rank 0's norm state\n", rank,
                     own.c_str(), (long long)p.steps, weights_path.c_str(), (long long)progress_.steps);
        load_weights(weights_path, net_, &sgd_.velocity());
      }
    } else {
      std::fprintf(stderr, "mabdet: rank %d: no %s: this rank's norm state starts from rank 0's\n", rank, own.c_str());
    }
  }
  if (progress_.has_stream) {
    for (int k = 0; k < 4; ++k) stream_rng_.state()[k] = ctx_.rng.state()[k] = progress_.rng[k];
    ctx_.data_epoch = progress_.data_epoch;
    ctx_.data_index = progress_.data_index;
  }
  if (is_root(ctx_.comm)) std::fprintf(stderr, "resumed %s at step %lld\n", weights_path.c_str(), (long long)progress_.steps);
}

// The first trainable parameter whose gradient (or value) holds a NaN or Inf, as
// "layer I [TYPE] 'NAME'" ("" if none). One sum per tensor (any NaN or Inf makes it
// non-finite), all taken on the params' device and read back with one copy.
static std::string nonfinite_param(Network& net, bool grads) {
  struct Where {
    size_t layer;
    std::string name;
  };
  std::vector<Where> at;
  std::vector<const Tensor*> ts;
  for (size_t i = 0; i < net.size(); ++i) {
    if (!net.needs_grad(i)) continue;
    for (Param& p : net.saved_params(i)) {
      const Tensor& t = grads ? *p.grad : *p.value;
      if (t.empty()) continue;
      at.push_back({i, p.name});
      ts.push_back(&t);
    }
  }
  if (ts.empty()) return "";
  Tensor sums(Shape{1, int(ts.size())}, net.device());
  for (size_t k = 0; k < ts.size(); ++k)
    ops::channel_sum(net.device(), Shape{1, 1, 1, int(ts[k]->size())}, ts[k]->data(), sums.data() + k, false);
  const Tensor host = sums.clone(Device::CPU);
  for (size_t k = 0; k < ts.size(); ++k)
    if (!std::isfinite(host[k])) return cat("layer ", at[k].layer, " [", net.layer(at[k].layer).type(), "] '", at[k].name, "'");
  return "";
}

// Scales every trainable gradient by max_norm / ||g|| when the global L2 norm exceeds max_norm.
static void clip_gradients(Network& net, float max_norm) {
  double sq = 0;
  std::vector<Param> ps = net.params();
  const Device d = net.device();
  if (d == Device::CPU) {
    for (const Param& p : ps)
      for (size_t i = 0; i < p.grad->size(); ++i) sq += double((*p.grad)[i]) * (*p.grad)[i];
  } else if (!ps.empty()) {  // one float sum of squares per param on the device, one copy back
    Tensor sums(Shape{1, int(ps.size())}, d);
    for (size_t k = 0; k < ps.size(); ++k) {
      const Tensor& g = *ps[k].grad;
      ops::channel_dot(d, Shape{1, 1, 1, int(g.size())}, g.data(), g.data(), sums.data() + k, false);
    }
    const Tensor host = sums.clone(Device::CPU);
    for (size_t k = 0; k < ps.size(); ++k) sq += host[k];
  }
  const double norm = std::sqrt(sq);
  if (!(norm > max_norm)) return;
  const float f = float(max_norm / norm);
  for (const Param& p : ps) ops::scale(d, p.grad->size(), f, p.grad->data());
}

double Trainer::run(const SubBatchSource& load, const TrainOptions& opt) {
  const NetConfig& c = net_.config();
  if (c.max_batches <= 0) fail("[net] max_batches must be set (> 0) to train");
  bool has_loss = false;
  for (size_t i = 0; i < net_.size(); ++i) has_loss = has_loss || net_.layer(i).is_loss();
  if (!has_loss) fail("the cfg has no loss layer (e.g. [softmax] as the last layer): training would learn nothing");
  if (net_.params().empty()) fail("the cfg has no trainable parameters (all frozen?): training would learn nothing");
  Comm* comm = ctx_.comm;
  const bool dist = distributed(comm), root = is_root(comm);
  const ShardPlan plan = shard_plan(c, comm);
  std::unique_ptr<GradReducer> reducer;
  if (dist) {
    reducer = std::make_unique<GradReducer>(net_.params(), net_.params_final_node(), bucket_floats());
  }
  const std::time_t started = std::time(nullptr);
  bool cleaned = false;
  const bool saving = !opt.backup_dir.empty();
  // Every rank: ranks > 0 write their own norm state there too, possibly on another machine.
  if (saving) prepare_backup_dir(opt.backup_dir);
  std::string last_saved;
  // What a stop on bad numbers leaves behind, for its message.
  auto kept = [&] {
    if (!saving) return std::string("no checkpoints are kept (no backup folder)");
    return last_saved.empty() ? cat("nothing was saved by this run; ", opt.backup_dir, " is as it was")
                              : cat("the last checkpoint ", last_saved, " is kept as it was");
  };
  auto ckpt = [&](const char* suffix) {
    if (!saving) return;
    std::string path = cat(opt.backup_dir, "/", opt.name, suffix);
    // A finite gradient can still overflow the weights (a huge lr times weight decay): such
    // weights must not replace the last good checkpoint.
    const std::string bad = nonfinite_param(net_, false);
    if (!bad.empty())
      fail("step ", progress_.steps, ": the weights of ", bad, " are not finite after the update (lr ",
           learning_rate_at(c, progress_.steps - 1), "); training stopped without saving: ", kept());
    if (!root) {  // this rank's own norm state, for an exact resume (resume() reads it)
      save(rank_state_path(path, plan.rank));
      last_saved = path;  // what rank 0 wrote, for the messages
      return;
    }
    if (!cleaned) {
      for (const std::string& f : remove_stale_temps(opt.backup_dir, started))
        std::fprintf(stderr, "removed %s (left by a save that was killed)\n", f.c_str());
      cleaned = true;
    }
    save(path);
    last_saved = path;
    std::fprintf(stderr, "saved %s\n", path.c_str());
  };
  StopSignals signals;
  ctx_.train = true;
  ctx_.loss_scale = 1.f / c.batch;
  double step_loss = 0, avg = -1;
  std::vector<LossTerm> terms;
  std::vector<double> sums;  // data-parallel: the step's loss, its terms and the stop signal
  auto t0 = std::chrono::steady_clock::now(), t_step = t0;
  int64_t done_here = 0;
  while (progress_.steps < c.max_batches) {
    const int64_t step = progress_.steps;
    ctx_.iteration = step;
    step_loss = 0;
    terms.clear();
    const uint64_t step_key = stream_rng_.next();  // every rank draws it: the streams stay equal
    const float lr = learning_rate_at(c, step);
    for (int sub = plan.first_sub; sub < plan.first_sub + plan.subdivisions; ++sub) {
      seed_sub_rng(step_key, sub, ctx_.rng);
      const Tensor& input = load(step, sub, ctx_);
      net_.forward(ctx_, input);
      for (const LossTerm& t : net_.loss_terms())
        if (!std::isfinite(t.value))
          fail("step ", step + 1, ": loss term '", t.name, "' is ", t.value, " (lr ", lr,
               "); training stopped before updating the weights: ", kept());
      if (dist && sub == plan.first_sub + plan.subdivisions - 1) {
        // The step's last backward: each gradient bucket is summed as soon as it is complete.
        reducer->begin_step();
        net_.backward(ctx_, [&](size_t node) { reducer->node_done(node, *comm); });
      } else {
        net_.backward(ctx_);
      }
      step_loss += net_.loss();
      add_terms(terms, net_.loss_terms());
    }
    int stop_signal = signals.pending();
    if (dist) {
      reducer->finish(*comm);
      // One call for the numbers every rank must agree on. The terms come from the same layers
      // in the same order on every rank; their count is summed too, as a check of that.
      sums.assign({step_loss, double(terms.size()), double(stop_signal != 0)});
      for (const LossTerm& t : terms) sums.push_back(t.value);
      comm->allreduce_sum(sums.data(), sums.size(), Device::CPU);
      MABDET_ASSERT(sums[1] == double(terms.size()) * plan.ranks, "ranks report different loss terms");
      step_loss = sums[0];
      if (sums[2] > 0 && !stop_signal) stop_signal = SIGTERM;  // another rank was asked to stop
      for (size_t k = 0; k < terms.size(); ++k) terms[k].value = sums[3 + k];
    }
    if (!std::isfinite(step_loss)) fail("step ", step + 1, ": the loss is ", step_loss, " (lr ", lr, "); training stopped: ", kept());
    const std::string bad = nonfinite_param(net_, true);
    if (!bad.empty())
      fail("step ", step + 1, ": the gradient of ", bad, " is not finite (loss terms: ", terms_str(terms), "; lr ", lr,
           "); training stopped before updating the weights: ", kept());
    if (c.clip_grad_norm > 0) clip_gradients(net_, c.clip_grad_norm);
    sgd_.step(lr);
    net_.zero_grads();
    progress_.steps++;
    progress_.images_seen += c.batch;
    avg = avg < 0 ? step_loss : 0.95 * avg + 0.05 * step_loss;
    if (root && !opt.quiet_log && (progress_.steps % opt.log_every == 0 || progress_.steps == c.max_batches)) {
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("step %lld/%d  loss %.4f  avg %.4f  lr %.5g  %.1f img/s  [%s]\n", (long long)progress_.steps,
                  c.max_batches, step_loss, avg, lr, (done_here + 1) * c.batch / s, terms_str(terms).c_str());
      std::fflush(stdout);
    }
    ++done_here;
    const bool last = progress_.steps >= c.max_batches;
    const bool due = !last && opt.save_every > 0 && progress_.steps % opt.save_every == 0;
    if (opt.after_step) {
      const auto now = std::chrono::steady_clock::now();
      opt.after_step(progress_.steps, terms, std::chrono::duration<double>(now - t_step).count());
    }
    t_step = std::chrono::steady_clock::now();
    if (!dist) stop_signal = signals.pending();  // one process: a signal during after_step counts now
    if (stop_signal && !last) {
      const int sig = stop_signal;
      ckpt("_last.weights");
      ctx_.train = false;
      throw Interrupted(cat(sig == SIGINT ? "SIGINT" : "SIGTERM", " at step ", progress_.steps, "/", c.max_batches, ": ",
                            last_saved.empty() ? std::string("no backup folder, nothing saved")
                                               : cat("saved ", last_saved, "; resume from it")),
                        sig);
    }
    if (last) break;  // the final checkpoint below, whatever --stop-after says
    if (due) ckpt("_last.weights");
    // Stopping on the last step is finishing: fall through to the _final checkpoint, which is
    // what classifier_train then reads.
    if (opt.stop_after >= 0 && done_here >= opt.stop_after && progress_.steps < c.max_batches) {
      ckpt("_last.weights");
      ctx_.train = false;
      return step_loss;
    }
  }
  ckpt("_final.weights");
  ctx_.train = false;
  return step_loss;
}

}  // namespace mabdet
