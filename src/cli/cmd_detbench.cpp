// mabdet detbench CFG [--train-size S] [--images N] [--test-size HxW] [--iters K] [--inference-only]
// One detector training iteration on N synthetic S x S images (random pixels, a few boxes with
// polygon masks each) and one inference at H x W, timed, with the process's peak memory and the
// peak of its tensors: the mabdet side of bench/detector.sh (torchvision's side is
// bench/torch_maskrcnn.py). The inference's peak RSS includes the training before it, so
// --inference-only skips training to measure what `detect` alone holds.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "mabdet/detector.h"
#include "mabdet/error.h"
#include "mabdet/rng.h"

namespace mabdet::cli {
namespace {

void synthetic(Batch& b, int n, int h, int w, bool targets, Rng& rng) {
  b.images.reshape(n, 3, h, w);
  for (size_t i = 0; i < b.images.size(); ++i) b.images[i] = float(rng.uniform(-2, 2));
  b.meta.assign(size_t(n), {});
  b.targets.assign(size_t(n), {});
  for (int i = 0; i < n; ++i) {
    b.meta[size_t(i)].plan = ResizePlan{w, h, w, h, 1.f, 1.f, false};
    if (!targets) continue;
    Targets& t = b.targets[size_t(i)];
    for (int k = 0; k < 8; ++k) {
      const float x = float(rng.uniform(0, w * 0.7)), y = float(rng.uniform(0, h * 0.7));
      const float bw = float(rng.uniform(16, w * 0.3)), bh = float(rng.uniform(16, h * 0.3));
      t.boxes.insert(t.boxes.end(), {x, y, x + bw, y + bh});
      t.labels.push_back(k % 5);
      t.ann_ids.push_back(k + 1);
      GtMask m;
      m.kind = GtMask::Kind::Polygons;
      m.polygons = {{x, y, x + bw, y + bh / 2, x + bw / 2, y + bh}};
      t.masks.push_back(m);
    }
  }
}

}  // namespace

int detbench(const Args& a) {
  const char* usage = "usage: mabdet detbench CFG [--train-size S] [--images N] [--test-size HxW] [--iters K] [--inference-only]";
  if (a.empty()) fail(usage);
  int S = 800, N = 2, TH = 800, TW = 1344, iters = 1;
  bool train = true;
  for (size_t i = 1; i < a.size(); i += 2) {
    if (a[i] == "--inference-only") {
      train = false;
      --i;
      continue;
    }
    if (i + 1 == a.size()) fail(usage);
    const int v = std::atoi(a[i + 1].c_str());
    if (a[i] == "--train-size") S = v;
    else if (a[i] == "--images") N = v;
    else if (a[i] == "--iters") iters = v;
    else if (a[i] == "--test-size" && std::sscanf(a[i + 1].c_str(), "%dx%d", &TH, &TW) == 2) {}
    else fail("detbench: unknown option '", a[i], "'");
  }
  if (S < 32 || N < 1 || iters < 1 || TH < 32 || TW < 32) fail("detbench: sizes, images and iters must be positive");
  // Sizes are padded to the cfg's divisibility as the loader pads them.
  Detector det = Detector::from_file(a[0]);
  const int div = det.augment().size_divisibility;
  auto pad = [&](int x) { return (x + div - 1) / div * div; };
  Network& net = det.net();
  Context ctx;
  Rng rng(1);
  Batch b;
  synthetic(b, N, pad(S), pad(S), true, rng);
  ctx.train = true;
  ctx.batch = &b;
  ctx.loss_scale = 1.f / N;
  double train_s = 0;
  for (int it = 0; train && it <= iters; ++it) {  // iteration 0 warms up (allocation, first touch)
    const auto t0 = std::chrono::steady_clock::now();
    net.forward(ctx, b.images);
    net.backward(ctx);
    net.zero_grads();
    if (it) train_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  if (train)
    std::printf("train: %.3f s per iteration (%d images %dx%d), loss %.4f, peak RSS %.0f MB, tensors %.0f MB\n",
                train_s / iters, N, pad(S), pad(S), net.loss(), peak_rss_mb(), peak_tensor_mb());
  if (!train) net.drop_param_grads();  // what `detect` holds
  reset_host_tensor_peak();
  Batch tb;
  synthetic(tb, 1, pad(TH), pad(TW), false, rng);
  std::vector<std::vector<Detection>> dets;
  double test_s = 0;
  for (int it = 0; it <= iters; ++it) {
    const auto t0 = std::chrono::steady_clock::now();
    det.detect(ctx, tb, dets);
    if (it) test_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  std::printf("inference: %.3f s per image (%dx%d), %zu detections, peak RSS %.0f MB, tensors %.0f MB\n",
              test_s / iters, pad(TH), pad(TW), dets[0].size(), peak_rss_mb(), peak_tensor_mb());
  return 0;
}

}  // namespace mabdet::cli
