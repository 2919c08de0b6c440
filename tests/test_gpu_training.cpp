// Whole networks on the GPU against the same networks on the CPU (issue 13): every classifier
// layer type and every norm, trained for a few SGD steps from the same seed and input, compared
// after each step (every layer's output, every param gradient, every saved state tensor, the
// params after the update), then inference, and a checkpoint written by the GPU net read by a
// CPU net. Runs only where a GPU is present; elsewhere every case is registered as skipped.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <unistd.h>

#include "gradcheck.h"
#include "mabdet/network.h"
#include "mabdet/sgd.h"
#include "mabdet/weights.h"

using namespace mabdet;

namespace {
doctest::skip no_gpu() { return doctest::skip(!cuda_available()); }

// Every layer the classifier path has: strided, grouped and dilated convs, a residual add,
// max and average pooling, a route, upsampling and a deconv, a standalone norm, connected,
// softmax. The norm under test is [net]'s norm= (every conv takes it).
std::string cfg_for(const std::string& norm) {
  // Small groups and buffer, and no warm-up or ramp, so that a few steps reach every code path.
  const std::string extra = norm == "gn"     ? "gn_groups=2\n"
                            : norm == "mabn" ? "mabn_buffer=2\nmabn_warmup=0\n"
                            : norm == "brn"  ? "brn_ramp_start=0\nbrn_ramp_end=1\n"
                                             : "";
  return R"([net]
batch=4
width=12
height=12
channels=3
seed=7
norm=)" + norm + "\n" + extra + R"(
[convolutional]
filters=8
size=3
stride=2
pad=1
activation=relu
[convolutional]
filters=8
size=3
pad=1
groups=2
activation=leaky
[convolutional]
filters=8
size=3
pad=1
dilation=2
activation=linear
[shortcut]
from=-3
activation=relu
[maxpool]
size=2
stride=2
[upsample]
stride=2
[route]
from=-1,-3
[deconvolutional]
filters=4
size=2
stride=2
activation=relu
[normalization]
activation=logistic
[convolutional]
filters=6
size=1
activation=relu
[avgpool]
[connected]
output=5
[softmax]
)";
}

// max |a - b| over max(|a|) (1e-3 at least): the error relative to the tensor's scale, which is
// what accumulates differently (cuBLAS and OpenBLAS sum in other orders).
float rel_diff(const Tensor& cpu, const Tensor& gpu) {
  Tensor g = gpu.clone(Device::CPU);
  REQUIRE(g.shape() == cpu.shape());
  float worst = 0, scale = 1e-3f;
  for (size_t i = 0; i < cpu.size(); ++i) {
    worst = std::max(worst, std::fabs(cpu[i] - g[i]));
    scale = std::max(scale, std::fabs(cpu[i]));
  }
  return worst / scale;
}

void check_close(const Tensor& cpu, const Tensor& gpu, float tol, const std::string& what) {
  const float d = rel_diff(cpu, gpu);
  INFO(what << ": relative difference " << d << " (first values cpu " << (cpu.empty() ? 0.f : cpu[0]) << ")");
  CHECK(d <= tol);
}

struct Side {
  Network net;
  Context ctx;
  Sgd sgd;
  // conv: the GPU's path (cuDNN under Auto, im2col + cuBLAS under Reference); the CPU side runs
  // the readable reference path.
  Side(const std::string& cfg, Device d, ConvPath conv = ConvPath::Reference)
      : net(parse_cfg_text(cfg, "gpu_check.cfg")), sgd((net.to(d), net.params()), 0.9f, 1e-4f) {
    ctx.device = d;
    ctx.train = true;
    ctx.conv = d == Device::CPU ? ConvPath::Reference : conv;
    ctx.loss_scale = 0.25f;
  }
};

// Tolerances, stated: forward values 1e-4 of the tensor's scale; gradients and saved state,
// which pass through the batch statistics, 2e-3; params after an update 1e-4.
constexpr float kForward = 1e-4f, kGrad = 2e-3f, kParam = 1e-4f;

void compare_training(const std::string& norm, int steps, ConvPath gpu_conv) {
  CAPTURE(norm);
  CAPTURE(gpu_conv == ConvPath::Reference ? "im2col + cuBLAS" : "cuDNN where built");
  const std::string cfg = cfg_for(norm);
  Side cpu(cfg, Device::CPU), gpu(cfg, Device::CUDA, gpu_conv);
  Rng rng(11);
  IndexTensor labels(4, 1);
  for (int step = 0; step < steps; ++step) {
    CAPTURE(step);
    Tensor x(4, 3, 12, 12);
    test::fill_uniform(x, rng);
    for (int i = 0; i < 4; ++i) labels[i] = (step + 2 * i) % 5;
    const Tensor gx = x.clone(Device::CUDA);
    cpu.ctx.labels = gpu.ctx.labels = &labels;
    cpu.net.forward(cpu.ctx, x);
    gpu.net.forward(gpu.ctx, gx);
    for (size_t i = 0; i < cpu.net.size(); ++i)
      check_close(cpu.net.output(i), gpu.net.output(i), kForward, "output of layer " + std::to_string(i) + " [" +
                                                                      cpu.net.layer(i).type() + "]");
    CHECK(std::fabs(cpu.net.loss() - gpu.net.loss()) <= 1e-4 * std::max(1.0, std::fabs(cpu.net.loss())));
    cpu.net.backward(cpu.ctx);
    gpu.net.backward(gpu.ctx);
    std::vector<Param> pc = cpu.net.params(), pg = gpu.net.params();
    REQUIRE(pc.size() == pg.size());
    for (size_t k = 0; k < pc.size(); ++k) check_close(*pc[k].grad, *pg[k].grad, kGrad, "gradient of " + pc[k].name);
    std::vector<State> sc = cpu.net.state(), sg = gpu.net.state();
    REQUIRE(sc.size() == sg.size());
    for (size_t k = 0; k < sc.size(); ++k) {
      if (sc[k].counter) CHECK(*sc[k].counter == *sg[k].counter);
      else check_close(*sc[k].tensor, *sg[k].tensor, kGrad, "state " + sc[k].name);
    }
    cpu.sgd.step(0.05f);
    gpu.sgd.step(0.05f);
    cpu.net.zero_grads();
    gpu.net.zero_grads();
    for (size_t k = 0; k < pc.size(); ++k) check_close(*pc[k].value, *pg[k].value, kParam, "param " + pc[k].name);
  }
  // Inference from the trained state, then the GPU net's checkpoint read by a fresh CPU net.
  cpu.ctx.train = gpu.ctx.train = false;
  Tensor x(4, 3, 12, 12);
  test::fill_uniform(x, rng);
  const Tensor gx = x.clone(Device::CUDA);
  check_close(cpu.net.forward(cpu.ctx, x), gpu.net.forward(gpu.ctx, gx), kGrad, "inference output");
  const std::string path = "/tmp/mabdet_gpu_check_" + std::to_string(getpid()) + ".weights";
  save_weights(path, gpu.net, Progress{}, nullptr);
  Side resumed(cfg, Device::CPU);
  load_weights(path, resumed.net, nullptr);
  std::remove(path.c_str());
  resumed.ctx.train = false;
  Tensor from_gpu = gpu.net.forward(gpu.ctx, gx).clone(Device::CPU);
  check_close(from_gpu, resumed.net.forward(resumed.ctx, x).clone(Device::CUDA), 1e-5f,
              "the GPU net's checkpoint on the CPU");
}
}  // namespace

TEST_CASE("GPU training matches the CPU: every layer, each norm, 3 SGD steps" * no_gpu()) {
  for (const char* norm : {"none", "bn", "brn", "gn", "frozen_bn", "mabn"}) compare_training(norm, 3, ConvPath::Auto);
  for (const char* norm : {"bn", "mabn"}) compare_training(norm, 3, ConvPath::Reference);
}

TEST_CASE("GPU training matches the CPU: MABN past its buffer (SMA statistics)" * no_gpu()) {
  compare_training("mabn", 6, ConvPath::Auto);  // buffer 2, no warm-up: steps 3.. use the moving averages
}

TEST_CASE("GPU: a network moved there holds no host tensors but the loss's host copies" * no_gpu()) {
  const TensorBytes before = host_tensor_bytes();
  Network net(parse_cfg_text(cfg_for("mabn"), "gpu_check.cfg"));
  net.to(Device::CUDA);
  // softmax keeps (N) loss values and labels on the host: 4 images, 8 bytes each.
  CHECK(host_tensor_bytes().live - before.live <= 4 * 8);
}

TEST_CASE("GPU: a detector layer refuses the GPU, naming itself and its cfg line" * no_gpu()) {
  Network net(parse_cfg_text(R"([net]
batch=1
width=8
height=8
channels=3
[convolutional]
filters=4
size=1
[argmax]
)", "host_only.cfg"));
  try {
    net.to(Device::CUDA);
    FAIL("to(CUDA) accepted [argmax]");
  } catch (const Error& e) {
    const std::string m = e.what();
    CHECK(m.find("[argmax]") != std::string::npos);
    CHECK(m.find("cfg line 9") != std::string::npos);
  }
}
