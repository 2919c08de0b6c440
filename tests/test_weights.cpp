#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "gradcheck.h"
#include "mabdet/trainer.h"
#include "mabdet/weights.h"
#include "test_util.h"

using namespace mabdet;
using mabdet::test::error_of;

namespace {
// MABN convs with subdivisions: the resume test then covers norm buffers, counters and momentum.
std::string net_text(int filters, const std::string& norm = "mabn") {
  return cat(R"([net]
batch=4
subdivisions=2
width=5
height=5
channels=2
seed=7
learning_rate=0.05
momentum=0.9
decay=0.001
burn_in=2
max_batches=6
norm=)",
             norm, R"(
mabn_buffer=2
mabn_warmup=1
[convolutional]
filters=)",
             filters, R"(
size=3
pad=1
activation=relu
[convolutional]
filters=3
size=3
stride=2
pad=1
activation=relu
[connected]
output=3
[softmax]
)");
}

Network make(const std::string& text) { return Network(parse_cfg_text(text, "w.cfg")); }

// Deterministic sub-batches: a function of (step, sub) only.
struct Feed {
  Tensor x;
  IndexTensor y;
  const Tensor& operator()(int64_t step, int sub, Context& ctx) {
    x.reshape(2, 2, 5, 5);
    y.reshape(2, 1);
    Rng rng(uint64_t(step * 10 + sub + 1));
    test::fill_uniform(x, rng);
    y[0] = rng.randint(3);
    y[1] = rng.randint(3);
    ctx.labels = &y;
    return x;
  }
};

std::vector<float> all_values(Network& net) {
  std::vector<float> v;
  for (Param& p : net.params())
    for (size_t i = 0; i < p.value->size(); ++i) v.push_back((*p.value)[i]);
  for (State& s : net.state()) {
    if (s.counter) v.push_back(float(*s.counter));
    else
      for (size_t i = 0; i < s.tensor->size(); ++i) v.push_back((*s.tensor)[i]);
  }
  return v;
}
}  // namespace

TEST_CASE("weights save/load round trip restores params and state exactly") {
  test::TempDir tmp;
  std::string dir = tmp.path, path = dir + "/a.weights";
  Network a = make(net_text(4));
  Context ctx;
  Trainer t(a, ctx);
  Feed feed;
  TrainOptions opt;
  opt.stop_after = 3;
  opt.log_every = 1000;
  t.run(std::ref(feed), opt);
  save_weights(path, a, t.progress(), nullptr);
  Network b = make(net_text(4));
  Progress p = load_weights(path, b, nullptr);
  CHECK(p.steps == 3);
  CHECK(p.images_seen == 12);
  CHECK(all_values(a) == all_values(b));
  CHECK(access((path + ".tmp." + std::to_string(getpid())).c_str(), F_OK) != 0);  // no temp left behind
}

TEST_CASE("resume continues the schedule, momentum and MABN state exactly") {
  test::TempDir tmp;
  std::string dir = tmp.path;
  Feed feed;
  TrainOptions quiet;
  quiet.log_every = 1000;
  Network full = make(net_text(4));
  {
    Context ctx;
    Trainer t(full, ctx);
    t.run(std::ref(feed), quiet);
  }
  Network first = make(net_text(4));
  TrainOptions stop = quiet;
  stop.backup_dir = dir;
  stop.name = "r";
  stop.stop_after = 3;
  {
    Context ctx;
    Trainer t(first, ctx);
    t.run(std::ref(feed), stop);
  }
  Network second = make(net_text(4));
  Context ctx;
  Trainer t(second, ctx);
  t.resume(dir + "/r_last.weights");
  CHECK(t.progress().steps == 3);
  t.run(std::ref(feed), quiet);
  CHECK(t.progress().steps == 6);
  CHECK(all_values(second) == all_values(full));
}

TEST_CASE("loading names the layer and tensor that do not match") {
  test::TempDir tmp;
  std::string dir = tmp.path, path = dir + "/m.weights";
  Network a = make(net_text(4));
  save_weights(path, a, Progress{}, nullptr);
  Network wider = make(net_text(6));
  CHECK(error_of([&] { load_weights(path, wider, nullptr); }) ==
        path + ": layer 0 (convolutional) 'weights' has 72 values in the file, the cfg needs 108");
  Network other_norm = make(net_text(4, "bn"));
  CHECK(error_of([&] { load_weights(path, other_norm, nullptr); }) ==
        path + ": layer 0 (convolutional) has 7 saved tensors, the cfg's layer has 5 (a different norm?)");
}

TEST_CASE("corrupt and truncated weights files are reported, not trusted") {
  test::TempDir tmp;
  std::string dir = tmp.path, path = dir + "/t.weights";
  Network a = make(net_text(4));
  save_weights(path, a, Progress{}, nullptr);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  CHECK(error_of([&] { load_weights(path, a, nullptr); }).find(path + ": truncated or unreadable while reading") == 0);
  std::ofstream(path, std::ios::binary) << "not a weights file";
  CHECK(error_of([&] { load_weights(path, a, nullptr); }) == path + ": not a mabdet weights file (bad magic)");
  CHECK(error_of([&] { load_weights(dir + "/missing.weights", a, nullptr); }).find("missing.weights: cannot open") != std::string::npos);
  CHECK(error_of([&] { save_weights("/nonexistent-dir/x.weights", a, Progress{}, nullptr); }).find("cannot write") != std::string::npos);
}

namespace {
std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
// A copy of `bytes` with the int64 at `off` replaced by v, written to path.
void patch_i64(const std::string& bytes, size_t off, int64_t v, const std::string& path) {
  std::string b = bytes;
  REQUIRE(off + 8 <= b.size());
  std::memcpy(&b[off], &v, 8);
  std::ofstream(path, std::ios::binary) << b;
}
}  // namespace

TEST_CASE("weights with a negative step, image count, data position or counter are rejected") {
  // Header layout (weights.h): magic 8, version 4, flags 4, steps 8 @16, images 8 @24, rng 32,
  // data_epoch 8 @64, data_index 8 @72.
  test::TempDir tmp;
  const std::string good = tmp / "good.weights", bad = tmp / "bad.weights";
  Network a = make(net_text(4));
  Progress p;
  p.steps = 3;
  p.images_seen = 12;
  save_weights(good, a, p, nullptr);
  const std::string bytes = file_bytes(good);
  CHECK_NOTHROW(load_weights(good, a, nullptr));
  patch_i64(bytes, 16, -5, bad);
  CHECK(error_of([&] { load_weights(bad, a, nullptr); }) == bad + ": corrupt header (step count -5, image count 12)");
  patch_i64(bytes, 24, INT64_MIN, bad);
  CHECK(error_of([&] { load_weights(bad, a, nullptr); }) ==
        bad + ": corrupt header (step count 3, image count -9223372036854775808)");
  patch_i64(bytes, 64, -1, bad);
  CHECK(error_of([&] { load_weights(bad, a, nullptr); }) == bad + ": corrupt header (data position epoch -1, index 0)");
  patch_i64(bytes, 72, -7, bad);
  CHECK(error_of([&] { load_weights(bad, a, nullptr); }) == bad + ": corrupt header (data position epoch 0, index -7)");
  // The first MABN counter: the int64 right after the entry name "norm.t".
  const size_t name = bytes.find("norm.t");
  REQUIRE(name != std::string::npos);
  patch_i64(bytes, name + 6, -1, bad);
  CHECK(error_of([&] { load_weights(bad, a, nullptr); }) ==
        bad + ": layer 0 (convolutional) 'norm.t' is -1 (corrupt file: counters are >= 0)");
}
