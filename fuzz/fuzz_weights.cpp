// Weights/checkpoint bytes -> load_weights into a small fixed network (every norm that saves state
// or counters, optimizer velocity included), then one training step from the loaded state, so that
// a value the loader lets through (a negative counter, a NaN) is also used the way a resume uses it.
// MABDET_FUZZ_PRINT_CFG=1 prints the network's cfg and exits: fuzz/seed_corpora.sh trains it
// briefly to get seed checkpoints of exactly this layout.
#include "fuzz_util.h"
#include "mabdet/context.h"
#include "mabdet/network.h"
#include "mabdet/sgd.h"
#include "mabdet/weights.h"

namespace {
// 8x8 RGB, 10 classes: the shapes data's class count, so `mabdet classifier train` can train it.
const char* kCfg = R"cfg([net]
batch=4
subdivisions=2
width=8
height=8
channels=3
learning_rate=0.01
momentum=0.9
decay=0.0005
burn_in=4
max_batches=6
seed=5
mabn_buffer=4
mabn_warmup=2

[convolutional]
filters=4
size=3
pad=1
norm=mabn
activation=relu

[convolutional]
filters=4
size=3
stride=2
pad=1
norm=brn
activation=relu

[convolutional]
filters=6
size=1
norm=bn
activation=leaky

[convolutional]
filters=6
size=3
pad=1
groups=2
norm=gn
gn_groups=2
activation=relu

[convolutional]
filters=6
size=1
norm=frozen_bn
activation=linear

[avgpool]

[connected]
output=10
norm=none

[softmax]
)cfg";
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (std::getenv("MABDET_FUZZ_PRINT_CFG")) {
    std::fputs(kCfg, stdout);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mabdet_fuzz::ScratchCleanup cleanup{".weights"};
  const std::string path = mabdet_fuzz::write_scratch(data, size, ".weights");
  // A fresh network each time: a failed load may leave some tensors filled, and an input must not
  // depend on the ones before it.
  mabdet::Network net(mabdet::parse_cfg_text(kCfg, "fuzz_weights.cfg"));
  mabdet_fuzz::expect_clean([&] {
    mabdet::Sgd sgd(net.params(), net.config().momentum, net.config().decay);
    mabdet::Progress p = mabdet::load_weights(path, net, &sgd.velocity());
    mabdet::Context ctx;
    ctx.train = true;
    ctx.iteration = p.steps;
    ctx.loss_scale = 1.f / net.config().batch;
    mabdet::Tensor input(mabdet::Shape{net.config().sub_batch(), 3, 8, 8});
    for (size_t i = 0; i < input.size(); ++i) input[i] = float(i % 7) * 0.25f - 0.5f;
    mabdet::IndexTensor labels(mabdet::Shape{net.config().sub_batch(), 1, 1, 1});
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = int32_t(i % 10);
    ctx.labels = &labels;
    net.forward(ctx, input);
    net.backward(ctx);
    sgd.step(mabdet::learning_rate_at(net.config(), p.steps));
  });
  return 0;
}
