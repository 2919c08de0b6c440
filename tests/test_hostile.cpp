// Hostile cfg, weights, image and training inputs (issue 12): each ends in a mabdet::Error whose
// message names the file, line and key (or the step and loss term), never in a crash, a wrapped
// shape or a run that goes on with NaN.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "mabdet/cfg.h"
#include "mabdet/data/image.h"
#include "mabdet/network.h"
#include "mabdet/trainer.h"
#include "mabdet/weights.h"
#include "test_util.h"

using namespace mabdet;
using mabdet::test::error_of;

namespace {
std::string net_head(const std::string& extra = "", int max_batches = 3) {
  return cat("[net]\nbatch=2\nwidth=8\nheight=8\nchannels=3\nmax_batches=", max_batches, "\n", extra);
}
std::string build_error(const std::string& text) {
  return error_of([&] { Network(parse_cfg_text(text, "h.cfg")); });
}

// Two random 8x8 images labelled 0 and 1, the same every step.
struct Feed {
  Tensor x{2, 3, 8, 8};
  IndexTensor y{2, 1};
  const Tensor& operator()(int64_t, int, Context& ctx) {
    Rng rng(5);
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(rng.normal());
    y[0] = 0;
    y[1] = 1;
    ctx.labels = &y;
    return x;
  }
};
const char* kSmall = "[convolutional]\nfilters=4\nsize=3\npad=1\nactivation=relu\n[avgpool]\n[connected]\noutput=2\n";
}  // namespace

TEST_CASE("hostile cfg: a UTF-8 byte-order mark is skipped; huge integers are errors") {
  auto s = parse_cfg_text("\xEF\xBB\xBF[net]\nbatch=4\n", "bom.cfg");
  REQUIRE(s.size() == 1);
  CHECK(s[0].type() == "net");
  CHECK(s[0].get_int("batch", 1) == 4);
  test::TempDir t;
  std::ofstream(t / "bom.data") << "\xEF\xBB\xBF" << "classes=3\n";
  CHECK(parse_kv(t / "bom.data").get_int("classes", 0) == 3);
  CHECK(build_error(net_head("policy=steps\nsteps=99999999999\nscales=.1\n") + kSmall + "[softmax]\n") ==
        "h.cfg:8 [net] steps=99999999999: '99999999999' is out of range for an integer (-2147483648..2147483647)");
}

TEST_CASE("hostile cfg: geometry keys that would overflow int are rejected at their line") {
  auto conv = [](const std::string& keys) { return net_head() + "[convolutional]\nfilters=4\n" + keys + "[softmax]\n"; };
  CHECK(build_error(conv("size=2147483647\n")) == "h.cfg:9 [convolutional] size=2147483647: must be in 1..65536");
  CHECK(build_error(conv("size=3\ndilation=2147483647\n")) ==
        "h.cfg:10 [convolutional] dilation=2147483647: must be in 1..65536");
  CHECK(build_error(conv("size=3000\ndilation=3000\n")) ==
        "h.cfg:10 [convolutional] dilation=3000: the dilated kernel spans dilation*(size-1)+1 = 8997001 pixels, more "
        "than 65536");
  CHECK(build_error(conv("size=3\npadding=2147483647\n")) ==
        "h.cfg:10 [convolutional] padding=2147483647: must be in 0..65536");
  CHECK(build_error(net_head() + "[upsample]\nstride=2147483647\n") ==
        "h.cfg:8 [upsample] stride=2147483647: must be in 1..65536");
  // The key in range, the output side not: 32 * 65536 pixels high.
  CHECK(build_error("[net]\nbatch=1\nwidth=32\nheight=32\nchannels=1\n[upsample]\nstride=65536\n") ==
        "h.cfg:6 [upsample]: upsample: the output would be 2097152 pixels high or wide, more than 1048576");
  CHECK(build_error("[net]\nbatch=1\nwidth=2147483647\nheight=8\n") ==
        "h.cfg:3 [net] width=2147483647: must be in 1..1048576");
  // The product of the dims: 2 x 65536 x 512 x 512 values.
  CHECK(build_error("[net]\nbatch=2\nwidth=512\nheight=512\nchannels=3\n[convolutional]\nfilters=65536\nsize=1\n") ==
        "h.cfg:6 [convolutional]: a 2x65536x512x512 tensor would hold more than 2147483647 values");
}

TEST_CASE("hostile paths: a directory given as cfg, .data, weights or image is named as one") {
  test::TempDir t;
  CHECK(error_of([&] { parse_cfg(t.path); }) == t.path + ": is a directory, not a cfg or .data file");
  CHECK(error_of([&] { parse_kv(t.path); }) == t.path + ": is a directory, not a cfg or .data file");
  CHECK(error_of([&] { decode_image(t.path); }) == t.path + ": is a directory, not an image");
  Network net(parse_cfg_text(net_head() + kSmall + "[softmax]\n", "h.cfg"));
  CHECK(error_of([&] { load_weights(t.path, net, nullptr); }) == t.path + ": is a directory, not a weights file");
}

TEST_CASE("hostile training: no loss layer, and a NaN loss stops at once keeping the checkpoint") {
  Feed feed;
  TrainOptions quiet;
  quiet.log_every = 1000;
  {
    Network net(parse_cfg_text(net_head() + kSmall, "h.cfg"));
    Context ctx;
    Trainer tr(net, ctx);
    CHECK(error_of([&] { tr.run(std::ref(feed), quiet); }) ==
          "the cfg has no loss layer (e.g. [softmax] as the last layer): training would learn nothing");
  }
  test::TempDir t;
  // A learning rate that blows the weights up (1e30 times weight decay overflows them within two
  // steps): the run stops at the first NaN/Inf loss, gradient or weight, before saving it, and
  // the checkpoint of the step before stays the last one, loadable and finite.
  Network net(parse_cfg_text(net_head("learning_rate=1e30\n", 20) + kSmall + "[softmax]\n", "h.cfg"));
  Context ctx;
  Trainer tr(net, ctx);
  TrainOptions opt = quiet;
  opt.backup_dir = t / "backup";
  opt.name = "n";
  opt.save_every = 1;
  const std::string msg = error_of([&] { tr.run(std::ref(feed), opt); });
  CAPTURE(msg);
  const int at = std::atoi(msg.c_str() + 5);  // "step N: ..."
  REQUIRE(msg.rfind("step ", 0) == 0);
  CHECK(at >= 2);
  CHECK(at < 20);
  const bool term = msg.find(": loss term 'softmax' is ") != std::string::npos;
  const bool grad = msg.find(": the gradient of layer ") != std::string::npos;
  const bool weights = msg.find(": the weights of layer ") != std::string::npos;
  CHECK((term || grad || weights));
  CHECK(msg.find("the last checkpoint " + t / "backup/n_last.weights" + " is kept as it was") != std::string::npos);
  // The kept checkpoint is loadable and finite.
  Network again(parse_cfg_text(net_head() + kSmall + "[softmax]\n", "h.cfg"));
  CHECK(load_weights(t / "backup/n_last.weights", again, nullptr).steps == 1);
  for (Param& p : again.params())
    for (size_t i = 0; i < p.value->size(); ++i) REQUIRE(std::isfinite((*p.value)[i]));
}

TEST_CASE("hostile training: the backup folder is probed before the first step") {
  test::TempDir t;
  std::ofstream(t / "file") << "x";
  Feed feed;
  Network net(parse_cfg_text(net_head() + kSmall + "[softmax]\n", "h.cfg"));
  Context ctx;
  Trainer tr(net, ctx);
  TrainOptions opt;
  opt.backup_dir = t / "file/sub";
  std::string msg = error_of([&] { tr.run(std::ref(feed), opt); });
  CHECK(msg.rfind(t / "file/sub" + ": cannot create the backup folder (", 0) == 0);
  CHECK(tr.progress().steps == 0);
  if (geteuid() != 0) {  // root writes anywhere: the probe cannot fail there
    mkdir((t / "ro").c_str(), 0555);
    opt.backup_dir = t / "ro";
    CHECK(error_of([&] { tr.run(std::ref(feed), opt); }) ==
          t / "ro" + ": the backup folder is not writable (Permission denied)");
  }
}

TEST_CASE("hostile training: stale temporary files of killed saves are removed, live ones kept") {
  test::TempDir t;
  // PID 999999999 cannot be running (pid_max is at most 2^22); our own PID is alive.
  const std::string dead = t / "n_last.weights.tmp.999999999", mine = t / cat("n_last.weights.tmp.", getpid());
  const std::string other = t / "notes.tmp.999999999", chart = t / "n_chart.png.tmp.999999999";
  const std::string best = t / "n_best.txt.tmp.999999999";
  for (const std::string& f : {dead, mine, other, chart, best}) std::ofstream(f) << "x";
  std::vector<std::string> removed = remove_stale_temps(t.path, std::time(nullptr) - 100);
  std::sort(removed.begin(), removed.end());
  std::vector<std::string> want{dead, chart, best};
  std::sort(want.begin(), want.end());
  CHECK(removed == want);
  struct stat st;
  CHECK(stat(mine.c_str(), &st) == 0);
  CHECK(stat(other.c_str(), &st) == 0);
}

TEST_CASE("training: clip_grad_norm caps the step's gradient, all params as one vector") {
  Feed feed;
  TrainOptions quiet;
  quiet.log_every = 1000;
  // lr 1, no momentum or decay: the update is the (clipped) gradient itself.
  auto step_norm = [&](const std::string& clip) {
    Network net(parse_cfg_text(net_head("learning_rate=1\nmomentum=0\ndecay=0\n" + clip, 1) + kSmall + "[softmax]\n", "h.cfg"));
    std::vector<Tensor> before;
    for (Param& p : net.params()) before.push_back(p.value->clone());
    Context ctx;
    Trainer tr(net, ctx);
    tr.run(std::ref(feed), quiet);
    double sq = 0;
    std::vector<Param> ps = net.params();
    for (size_t k = 0; k < ps.size(); ++k)
      for (size_t i = 0; i < ps[k].value->size(); ++i) sq += std::pow(double((*ps[k].value)[i]) - before[k][i], 2);
    return std::sqrt(sq);
  };
  const double free = step_norm("");
  REQUIRE(free > 0.01);
  CHECK(step_norm("clip_grad_norm=0.001\n") == doctest::Approx(0.001).epsilon(1e-3));
  CHECK(step_norm(cat("clip_grad_norm=", free * 10, "\n")) == doctest::Approx(free).epsilon(1e-6));  // below the cap: untouched
  CHECK(build_error(net_head("clip_grad_norm=-1\n") + kSmall + "[softmax]\n").find("clip_grad_norm") != std::string::npos);
}
