// mabdet bench CFG [--batch N] [--size S] [--iters K] [--sum NAME,...] [--inference]: training-mode
// forward + backward time per layer and per image on random input, for comparing against the same
// network in PyTorch, with the process's peak RSS and the peak of its tensors beside it (lean
// memory, Network::set_lean_memory). A network without a loss layer (a backbone) backpropagates
// the sum of the named layers' outputs. --inference times forward-only inference instead.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "cli/commands.h"
#include "mabdet/device_choice.h"
#include "mabdet/network.h"
#include "mabdet/threads.h"

namespace mabdet::cli {
namespace {
int positive_int(const std::string& opt, const std::string& v) {
  char* end = nullptr;
  long x = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || x < 1) fail(opt, ": expected a positive integer, got '", v, "'");
  return int(x);
}
}  // namespace

int bench(const Args& a) {
  const char* usage = "usage: mabdet bench CFG [--batch N] [--size S] [--iters K] [--sum NAME,...] [--inference]";
  std::string cfg, sum;
  int batch = 0, size = 0, iters = 5;
  bool inference = false;
  for (size_t i = 0; i < a.size(); ++i) {
    bool has_value = i + 1 < a.size();
    if (a[i] == "--inference") inference = true;
    else if (a[i] == "--batch" && has_value) batch = positive_int(a[i], a[i + 1]), ++i;
    else if (a[i] == "--size" && has_value) size = positive_int(a[i], a[i + 1]), ++i;
    else if (a[i] == "--iters" && has_value) iters = positive_int(a[i], a[i + 1]), ++i;
    else if (a[i] == "--sum" && has_value) sum = a[++i];
    else if (cfg.empty() && a[i].rfind("--", 0) != 0) cfg = a[i];
    else fail(usage);
  }
  if (cfg.empty()) fail(usage);
  Network net = Network::from_file(cfg);
  std::vector<size_t> summed;
  std::stringstream names(sum);
  for (std::string name; std::getline(names, name, ',');) {
    size_t i = 0;
    while (i < net.size() && net.name(i) != name) ++i;
    if (i == net.size()) fail(cfg, ": --sum ", name, ": no layer has name=", name);
    if (!net.needs_grad(i)) fail(cfg, ": --sum ", name, ": nothing that trains feeds this layer");
    summed.push_back(i);
  }
  bool has_loss = false;
  for (size_t i = 0; i < net.size(); ++i) has_loss = has_loss || net.layer(i).is_loss();
  if (!inference && !has_loss && summed.empty()) fail(cfg, ": no loss layer; name the outputs to backpropagate with --sum NAME,...");
  net.set_sum_outputs(summed);
  const NetConfig& c = net.config();
  if (!batch) batch = c.sub_batch();
  int h = size ? size : c.height, w = size ? size : c.width;
  const Device dev = pick_device(device_choice());
  net.to(dev);
  Tensor host_input(batch, c.channels, h, w);
  Rng rng(1);
  for (size_t i = 0; i < host_input.size(); ++i) host_input[i] = float(rng.uniform(-1, 1));
  const Tensor input = host_input.clone(dev);
  IndexTensor labels(batch, 1);
  Context ctx;
  ctx.device = dev;
  ctx.train = !inference;
  ctx.loss_scale = 1.f / batch;
  ctx.labels = &labels;
  int classes = int(net.output().shape().chw());
  for (int i = 0; i < batch; ++i) labels[i] = rng.randint(std::max(1, classes));
  net.set_lean_memory(true);  // it reads the last output alone
  if (inference) net.drop_param_grads();
  reset_host_tensor_peak();  // the passes' peak, not the build's (it sizes outputs lean memory frees)
  reset_cuda_tensor_peak();
  auto pass = [&] {
    net.forward(ctx, input);
    if (!inference) net.backward(ctx);
    device_sync(dev);
  };
  pass();  // sizes every buffer; the first pass also pays page faults
  net.print_table(stderr);
  std::printf("%s, on %s\n", thread_summary(0).c_str(), device_label(dev).c_str());
  auto timed = [&] {
    auto t0 = std::chrono::steady_clock::now();
    for (int it = 0; it < iters; ++it) pass();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / iters;
  };
  // On the GPU the per-layer table waits for the device after every layer, which the step time
  // must not include: that is timed first, unprofiled. On the host profiling costs nothing.
  double total = dev == Device::CPU ? 0 : timed();
  net.set_profiling(true);
  const double profiled = timed();
  if (dev == Device::CPU) total = profiled;
  std::printf("layer  type             forward ms  backward ms   share\n");
  for (size_t i = 0; i < net.size(); ++i) {
    double f = net.forward_seconds()[i] / iters * 1e3, b = net.backward_seconds()[i] / iters * 1e3;
    std::printf("%5zu  %-15s  %10.3f  %11.3f  %5.1f%%\n", i, net.layer(i).type().c_str(), f, b, 100 * (f + b) / (profiled * 1e3));
  }
  std::printf("input %dx%dx%dx%d, %d iterations: %.2f ms per %s, %.2f ms per image, peak RSS %.0f MB, tensors %.0f MB",
              batch, c.channels, h, w, iters, total * 1e3, inference ? "inference forward" : "forward+backward",
              total * 1e3 / batch, peak_rss_mb(), peak_tensor_mb());
  if (dev != Device::CPU) std::printf(", GPU tensors %.0f MB", double(cuda_tensor_bytes().peak) / (1024.0 * 1024.0));
  std::printf("\n");
  return 0;
}

}  // namespace mabdet::cli
