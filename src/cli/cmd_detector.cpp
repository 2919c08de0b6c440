// mabdet train CFG DATA [WEIGHTS] | detect CFG WEIGHTS IMAGE|FOLDER... | map CFG DATA WEIGHTS
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "mabdet/coco_eval.h"
#include "mabdet/comm.h"
#include "mabdet/data/datafile.h"
#include "mabdet/detector.h"
#include "mabdet/detector_train.h"
#include "mabdet/error.h"
#include "mabdet/detect/results_json.h"
#include "mabdet/threads.h"
#include "mabdet/weights.h"

namespace mabdet::cli {
namespace {

long long int_arg(const std::string& flag, const std::string& v, long long lo, long long hi) {
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || errno == ERANGE || x < lo || x > hi)
    fail(flag, ": expected a whole number in ", lo, "..", hi, ", got '", v, "'");
  return x;
}

}  // namespace

int train(const Args& a) {
  const char* usage =
      "usage: mabdet train CFG DATA [WEIGHTS] [--restart] [-map | --map-every N] [--save-every N] [--keep-every N] "
      "[--stop-after N] [--log-every N] [--loader-threads N] [--no-eval]";
  DetTrainOptions opt;
  opt.loader_threads = default_loader_threads();
  std::vector<std::string> pos;
  bool map_flag = false;
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string& s = a[i];
    const bool has_value = i + 1 < a.size();
    if (s == "--restart") opt.restart = true;
    else if (s == "-map") map_flag = true;
    else if (s == "--no-eval") opt.final_eval = false;
    else if (s == "--map-every" && has_value) opt.map_every = int(int_arg(s, a[++i], 1, 1000000000));
    else if (s == "--keep-every" && has_value) opt.keep_every = int(int_arg(s, a[++i], 1, 1000000000));
    else if (s == "--save-every" && has_value) opt.save_every = int(int_arg(s, a[++i], 1, 1000000000));
    else if (s == "--stop-after" && has_value) opt.stop_after = int_arg(s, a[++i], 1, 1000000000);
    else if (s == "--log-every" && has_value) opt.log_every = int(int_arg(s, a[++i], 1, 1000000000));
    else if (s == "--loader-threads" && has_value) opt.loader_threads = int(int_arg(s, a[++i], 0, 64));
    else if (s.size() > 1 && s[0] == '-') fail("train: unknown option '", s, "'\n", usage);
    else pos.push_back(s);
  }
  if (pos.size() < 2 || pos.size() > 3) fail(usage);
  if (pos.size() == 3) opt.weights = pos[2];
  if (opt.restart && opt.weights.empty()) fail("train: --restart needs WEIGHTS");
  if (map_flag && opt.map_every == 0) {
    // darknet's -map: a handful of evaluations over the run.
    Detector probe = Detector::from_file(pos[0]);
    opt.map_every = std::max(1, probe.net().config().max_batches / 10);
  }
  opt.comm = &world();
  std::string out = train_detector(pos[0], pos[1], opt);
  if (world().rank() == 0) std::printf("weights: %s\n", out.c_str());
  return 0;
}

int map(const Args& a) {
  const char* usage = "usage: mabdet map CFG DATA WEIGHTS [--json RESULTS.json] [--batch N] [--loader-threads N]";
  std::vector<std::string> pos;
  std::string json;
  int batch = 1, threads = default_loader_threads();
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string& s = a[i];
    if ((s == "--json" || s == "-out") && i + 1 < a.size()) json = a[++i];
    else if (s == "--batch" && i + 1 < a.size()) batch = int(int_arg(s, a[++i], 1, 1024));
    else if (s == "--loader-threads" && i + 1 < a.size()) threads = int(int_arg(s, a[++i], 0, 64));
    else if (s.size() > 1 && s[0] == '-') fail("map: unknown option '", s, "'\n", usage);
    else pos.push_back(s);
  }
  if (pos.size() != 3) fail(usage);
  DataFile df = read_datafile(pos[1]);
  if (df.val_json.empty()) fail(pos[1], ": no val split (val_json= and val_images=) to evaluate");
  Detector det = Detector::from_file(pos[0]);
  load_weights(pos[2], det.net(), nullptr);
  det.net().drop_param_grads();  // inference alone: no training buffers
  CocoDataset val = load_split(df, "val", false);
  if (val.num_classes() != det.classes())
    fail(pos[0], ": classes=", det.classes(), " but ", val.json_path, " has ", val.num_classes(), " categories");
  CocoGroundTruth gt = CocoGroundTruth::load(df.val_json);
  Context ctx;
  EvalReport r = evaluate_detector(det, ctx, val, gt, batch, threads);
  std::printf("%s", r.table(gt).c_str());
  std::printf("%zu detections on %zu images in %.1f s\n", r.dets.size(), val.images.size(), r.seconds);
  if (json.empty()) json = cat(df.backup, "/", "results.json");
  detect::write_coco_results(json, r.dets);
  std::printf("results: %s\n", json.c_str());
  return 0;
}

}  // namespace mabdet::cli
