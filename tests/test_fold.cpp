// mabdet fold: the small Mask R-CNN with each foldable norm (bn, frozen_bn, brn, mabn with its
// centred convs), random statistics and affine parameters, gives the same detections folded and
// unfolded (boxes within 1e-4 of the image size, scores and mask probabilities within 1e-4), and
// the folded network has no norm left.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "mabdet/detector.h"
#include "mabdet/fold.h"
#include "mabdet/weights.h"

using namespace mabdet;

namespace {
std::string small_cfg_with(const std::string& norm) {
  const std::string here = __FILE__;
  std::ifstream in(here.substr(0, here.find_last_of('/')) + "/../cfg/mask_rcnn_small_bn2.cfg");
  std::stringstream text;
  text << in.rdbuf();
  std::string cfg = text.str();
  const size_t at = cfg.find("\nnorm=bn\n");
  REQUIRE(at != std::string::npos);
  cfg.replace(at, 9, "\nnorm=" + norm + "\n");
  return cfg;
}

// Statistics and affine parameters far from their fresh values, so that folding has work to do;
// the box classifier widened so that scores spread instead of tying near 1/(K+1).
void randomize(Network& net, Rng& rng) {
  auto fill = [&](Tensor& t, const std::string& name) {
    auto ends = [&](const char* s) { return name.size() >= std::strlen(s) && name.rfind(s) == name.size() - std::strlen(s); };
    for (size_t k = 0; k < t.size(); ++k) {
      if (ends("gamma")) t[k] = float(rng.uniform(0.5, 1.5));
      else if (ends("beta")) t[k] = float(rng.uniform(-0.3, 0.3));
      else if (ends("running_mean")) t[k] = float(rng.uniform(-0.3, 0.3));
      else if (ends("running_var")) t[k] = float(rng.uniform(0.5, 2.0));
    }
  };
  for (size_t i = 0; i < net.size(); ++i) {
    for (Param& p : net.saved_params(i)) {
      fill(*p.value, p.name);
      if (net.layer(i).type() == "box_predictor" && p.name == "cls.weights")
        for (size_t k = 0; k < p.value->size(); ++k) (*p.value)[k] *= 30.f;
    }
    for (State& s : net.saved_state(i))
      if (s.tensor) fill(*s.tensor, s.name);
  }
}

void image(Batch& b, int size) {
  Rng rng(5);
  b.images.reshape(1, 3, size, size);
  for (size_t i = 0; i < b.images.size(); ++i) b.images[i] = float(rng.uniform(-2, 2));
  b.meta.assign(1, {});
  b.meta[0].plan = ResizePlan{size, size, size, size, 1.f, 1.f, false};
  b.targets.assign(1, {});
}
}  // namespace

TEST_CASE("fold: folded and unfolded detections agree for every foldable norm") {
  const auto dir = std::filesystem::temp_directory_path() / "mabdet_fold_test";
  std::filesystem::create_directories(dir);
  for (const std::string norm : {"bn", "frozen_bn", "brn", "mabn"}) {
    CAPTURE(norm);
    const std::string cfg = (dir / (norm + ".cfg")).string(), out_cfg = (dir / (norm + "_folded.cfg")).string();
    const std::string out_w = (dir / (norm + "_folded.weights")).string();
    std::ofstream(cfg) << small_cfg_with(norm);
    Detector det = Detector::from_file(cfg);
    Rng rng(11);
    randomize(det.net(), rng);
    const std::vector<size_t> folded = fold_network(cfg, det.net(), out_cfg, out_w);
    CHECK(folded.size() >= 20);  // backbone, FPN, box and mask heads
    Detector fd = Detector::from_file(out_cfg);
    load_weights(out_w, fd.net(), nullptr);
    for (size_t i = 0; i < fd.net().size(); ++i) {  // no norm left: a bias at most
      for (const Param& p : fd.net().saved_params(i)) CHECK(p.name.find("gamma") == std::string::npos);
      CHECK(fd.net().saved_state(i).empty());
    }
    Batch b;
    image(b, 160);
    Context ctx;
    std::vector<std::vector<Detection>> a, f;
    det.detect(ctx, b, a);
    const Tensor masks_a = det.net().output(det.net().size() - 1).clone(Device::CPU);
    fd.detect(ctx, b, f);
    const Tensor& masks_f = fd.net().output(fd.net().size() - 1);
    REQUIRE(a[0].size() >= 10);
    REQUIRE(a[0].size() == f[0].size());
    double box = 0, score = 0, mask = 0;
    for (size_t d = 0; d < a[0].size(); ++d) {
      CHECK(a[0][d].label == f[0][d].label);
      for (int k = 0; k < 4; ++k) box = std::max(box, double(std::fabs(a[0][d].box[k] - f[0][d].box[k])));
      score = std::max(score, double(std::fabs(a[0][d].score - f[0][d].score)));
    }
    REQUIRE(masks_a.size() == masks_f.size());
    for (size_t k = 0; k < masks_a.size(); ++k) mask = std::max(mask, double(std::fabs(masks_a[k] - masks_f[k])));
    MESSAGE(norm, ": ", folded.size(), " layers folded, ", a[0].size(), " detections; max |diff| box ", box,
            " px, score ", score, ", mask probability ", mask);
    CHECK(box <= 1e-4 * 160);
    CHECK(score <= 1e-4);
    CHECK(mask <= 1e-4);
  }
  std::filesystem::remove_all(dir);
}
