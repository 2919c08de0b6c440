// `mabdet train CFG DATA [WEIGHTS]`: the detector's training loop around Trainer -- the data
// stream, the log with every loss term and an ETA, the chart, in-process evaluation and the
// _best checkpoint.
#include "mabdet/detector_train.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "detector/chart_log.h"
#include "mabdet/atomic_write.h"
#include "mabdet/data/datafile.h"
#include "mabdet/file_check.h"
#include "mabdet/data/loader.h"
#include "mabdet/ops.h"
#include "mabdet/progress.h"
#include "mabdet/shard.h"
#include "mabdet/threads.h"
#include "mabdet/sgd.h"
#include "mabdet/trainer.h"
#include "mabdet/weights.h"

namespace mabdet {
namespace {

void print_schedule(const NetConfig& c, const ShardPlan& plan, const Comm* comm, bool sync_bn, std::FILE* f) {
  std::fprintf(f, "%s\n", shard_line(c, plan, comm, sync_bn).c_str());
  std::string steps;
  for (size_t i = 0; i < c.steps.size(); ++i)
    steps += cat(i ? ", " : "", "x", i < c.scales.size() ? c.scales[i] : 1.f, " at ", c.steps[i]);
  std::fprintf(f, "lr %g, %s%s; warm-up %d steps (power %g); momentum %g, decay %g; %d steps%s\n",
               double(c.learning_rate), c.policy.c_str(), steps.empty() ? "" : cat(" (", steps, ")").c_str(),
               c.burn_in, double(c.power), double(c.momentum), double(c.decay), c.max_batches,
               c.clip_grad_norm > 0 ? cat(", gradients clipped at L2 norm ", c.clip_grad_norm).c_str() : "");
}

// The AP in NAME_best.txt ("bbox AP X at step S"), or -1 when there is none yet.
double read_best_ap(const std::string& path) {
  if (path.empty()) return -1;
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return -1;
  double ap = -1;
  long long step = 0;
  const bool ok = std::fscanf(f, "bbox AP %lf at step %lld", &ap, &step) == 2 && std::isfinite(ap);
  std::fclose(f);
  if (!ok) fail(path, ": expected a line \"bbox AP X at step S\" (the note beside NAME_best.weights)");
  std::fprintf(stderr, "best so far: bbox AP %.2f at step %lld (%s)\n", ap, step, path.c_str());
  return ap;
}

}  // namespace

std::string train_detector(const std::string& cfg, const std::string& data, const DetTrainOptions& opt) {
  DataFile df = read_datafile(data);
  Detector det = Detector::from_file(cfg);
  Network& net = det.net();
  const NetConfig& c = net.config();
  const bool root = is_root(opt.comm);
  const ShardPlan plan = shard_plan(c, opt.comm);
  CocoDataset ds = load_split(df, "train", det.has_masks());
  if (root) std::fputs(ds.report.summary(ds.json_path).c_str(), stderr);
  if (ds.num_classes() != det.classes())
    fail(cfg, ": classes=", det.classes(), " but ", ds.json_path, " has ", ds.num_classes(), " categories");
  const bool evaluating = opt.map_every > 0;
  CocoDataset val;
  std::unique_ptr<CocoGroundTruth> gt;
  if (root && (evaluating || opt.final_eval)) {
    if (df.val_json.empty()) {
      if (evaluating) fail(data, ": -map needs a val split (val_json= and val_images=)");
    } else {
      val = load_split(df, "val", false);
      gt = std::make_unique<CocoGroundTruth>(CocoGroundTruth::load(df.val_json));
    }
  }
  if (root) {
    net.print_table(stderr);
    print_schedule(c, plan, opt.comm, cfg_uses_norm(cfg, "sync_bn"), stderr);
    // A run is bit-identical to another of the same binary, seed and thread counts.
    std::fprintf(stderr, "seed %llu, %s\n", (unsigned long long)c.seed, thread_summary(opt.loader_threads).c_str());
  }

  Context ctx;
  ctx.comm = opt.comm;
  ctx.rng.seed_with(c.seed);
  Trainer trainer(net, ctx);
  if (!opt.weights.empty()) {
    if (opt.restart) {
      load_weights(opt.weights, net, nullptr);
      if (root) std::fprintf(stderr, "loaded %s (weights only: the schedule starts at step 0)\n", opt.weights.c_str());
    } else {
      trainer.resume(opt.weights);
    }
  }
  const int64_t done = trainer.progress().steps;
  if (done > int64_t(1) << 40) fail(opt.weights, ": step count ", done, " is beyond any run (corrupt file?)");
  LoaderOptions lo;
  lo.batch_size = c.sub_batch();
  lo.threads = opt.loader_threads;
  lo.train = true;
  lo.masks = det.has_masks();
  lo.seed = c.seed;
  lo.start_batch = done * c.subdivisions;  // a step reads exactly `subdivisions` batches
  lo.shard_period = c.subdivisions;        // of which this rank reads its own run
  lo.shard_take = plan.subdivisions;
  lo.shard_offset = plan.first_sub;
  BatchLoader loader(ds, det.augment(), lo);
  Batch batch;
  auto load = [&](int64_t, int, Context& x) -> const Tensor& {
    loader.next(batch);
    x.batch = &batch;
    x.data_epoch = batch.epoch;
    x.data_index = batch.number % loader.batches_per_epoch();
    return batch.images;
  };

  const std::string name = file_stem(cfg);
  TrainOptions to;
  to.backup_dir = df.backup;
  to.name = name;
  to.save_every = opt.save_every;
  to.stop_after = opt.stop_after;
  to.quiet_log = true;
  ChartSpec spec;
  spec.title = cat(name, "  seed ", c.seed, "  batch ", c.batch, " (", c.sub_batch(), " per norm)");
  spec.max_iteration = c.max_batches;
  ChartLog chart(df.backup.empty() || !root ? "" : cat(df.backup, "/", name, "_chart.png"), spec, done);
  // The best AP so far survives a resume (or a new run in the same folder): a later, worse
  // evaluation must not replace the _best checkpoint a user already has.
  const std::string best_note = df.backup.empty() ? "" : cat(df.backup, "/", name, "_best.txt");
  double best = read_best_ap(root ? best_note : ""), avg_s = 0;
  int64_t steps_here = 0;
  // mpirun hands its ranks a pseudo-terminal even when its own output goes to a file: with
  // several ranks, plain log lines only.
  const bool tty = stdout_is_terminal() && !distributed(opt.comm);
  auto evaluate = [&](int64_t step) {
    EvalReport r = evaluate_detector(det, ctx, val, *gt, std::max(1, c.sub_batch()), opt.loader_threads);
    const double ap = 100 * r.bbox.stats[0];
    std::printf("%sstep %lld: val bbox AP %.2f  AP50 %.2f", tty ? "\n" : "", (long long)step, ap, 100 * r.bbox.stats[1]);
    chart.add_metric(step, "bbox AP", ap);
    if (r.has_segm) {
      std::printf("  mask AP %.2f", 100 * r.segm.stats[0]);
      chart.add_metric(step, "mask AP", 100 * r.segm.stats[0]);
    }
    std::printf("  (%.1f s)\n", r.seconds);
    if (ap > best && !df.backup.empty()) {
      best = ap;
      const std::string p = cat(df.backup, "/", name, "_best.weights");
      trainer.save(p);
      write_atomically(best_note, [&](const std::string& tmp) {
        std::FILE* f = std::fopen(tmp.c_str(), "w");
        if (!f) fail(tmp, ": cannot write (", std::strerror(errno), ")");
        std::fprintf(f, "bbox AP %.4f at step %lld\n", ap, (long long)step);
        if (std::fclose(f) != 0) fail(tmp, ": write failed (", std::strerror(errno), ")");
      });
      std::printf("saved %s (best bbox AP so far)\n", p.c_str());
    }
    std::fflush(stdout);
  };
  to.after_step = [&](int64_t step, const std::vector<LossTerm>& terms, double seconds) {
    if (!root) return;  // the terms are the step's over all ranks; rank 0 reports them
    ++steps_here;
    avg_s = steps_here == 1 ? seconds : 0.9 * avg_s + 0.1 * seconds;
    chart.add_terms(step, terms);
    const bool log = step % opt.log_every == 0 || step == c.max_batches;
    if (log) {
      double total = 0;
      std::string ts;
      for (const LossTerm& t : terms) {
        total += t.value;
        ts += cat("  ", t.name, " ", std::round(t.value * 1e4) / 1e4);
      }
      std::printf("%sstep %lld/%d  loss %.4f%s  lr %.5g  %.2f img/s  ETA %s\n", tty ? "\r" : "", (long long)step,
                  c.max_batches, total, ts.c_str(), double(learning_rate_at(c, step - 1)), c.batch / avg_s,
                  format_duration(avg_s * double(c.max_batches - step)).c_str());
    } else if (tty) {
      std::printf("\r%s %lld/%d  ETA %s ", progress_bar(step, c.max_batches, 30).c_str(), (long long)step,
                  c.max_batches, format_duration(avg_s * double(c.max_batches - step)).c_str());
    }
    std::fflush(stdout);
    if (opt.keep_every > 0 && step % opt.keep_every == 0 && !df.backup.empty()) {
      const std::string p = cat(df.backup, "/", name, "_", step, ".weights");
      trainer.save(p);
      std::printf("%ssaved %s\n", tty ? "\n" : "", p.c_str());
    }
    if (evaluating && (step % opt.map_every == 0 || step == c.max_batches)) evaluate(step);
    if (log || step == c.max_batches) chart.write();
  };
  // MABDET_PROFILE=1: per-layer forward/backward time over the run, printed at the end.
  const char* prof = std::getenv("MABDET_PROFILE");
  if (prof && *prof == '1') net.set_profiling(true);
  trainer.run(load, to);
  if (prof && *prof == '1' && root) {
    for (size_t i = 0; i < net.size(); ++i)
      std::fprintf(stderr, "%4zu %-16s fwd %8.1f ms  bwd %8.1f ms\n", i, net.layer(i).type().c_str(),
                   net.forward_seconds()[i] * 1e3, net.backward_seconds()[i] * 1e3);
  }
  if (trainer.progress().steps < c.max_batches) return cat(df.backup, "/", name, "_last.weights");
  chart.write();
  const std::string final_path = cat(df.backup, "/", name, "_final.weights");
  if (root && opt.final_eval && gt && !evaluating) {
    EvalReport r = evaluate_detector(det, ctx, val, *gt, std::max(1, c.sub_batch()), opt.loader_threads);
    std::printf("%s", r.table(*gt).c_str());
  }
  return final_path;
}

}  // namespace mabdet
