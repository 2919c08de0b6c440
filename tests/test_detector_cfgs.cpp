// Every detector cfg shipped in cfg/ builds (every section, key and reference resolves); the R50
// ones at a small build size so the test stays light, the small ones as shipped, each also through
// one training forward/backward on a synthetic batch (finite loss terms) and one inference.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "batch_util.h"
#include "mabdet/detector.h"

using namespace mabdet;

namespace {
std::string repo_root() {
  const std::string here = __FILE__;
  return here.substr(0, here.find_last_of('/')) + "/..";
}

std::vector<std::string> detector_cfgs() {
  std::vector<std::string> v;
  for (const auto& e : std::filesystem::directory_iterator(repo_root() + "/cfg")) {
    const std::string n = e.path().filename().string();
    if (n.find("rcnn") != std::string::npos && e.path().extension() == ".cfg") v.push_back(e.path().string());
  }
  std::sort(v.begin(), v.end());
  return v;
}

void synthetic_batch(Batch& b, int n, int size) {
  Rng rng(3);
  b.images.reshape(n, 3, size, size);
  for (size_t i = 0; i < b.images.size(); ++i) b.images[i] = float(rng.uniform(-1, 1));
  test::two_box_targets(b, n, size, 1);  // image 1 without ground truth, which is normal
}
}  // namespace

TEST_CASE("detector cfgs: every shipped one builds; the small ones train a step and infer") {
  const std::vector<std::string> cfgs = detector_cfgs();
  REQUIRE(cfgs.size() >= 16);
  for (const std::string& path : cfgs) {
    CAPTURE(path);
    const bool small = path.find("small") != std::string::npos;
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::string cfg = text.str();
    if (!small) {  // R50 at 800x800 with 8 images per sub-batch would allocate gigabytes at build time
      cfg = std::regex_replace(cfg, std::regex("\n(width|height)=800"), "\n$1=128");
      cfg = std::regex_replace(cfg, std::regex("\nbatch=16\nsubdivisions=8"), "\nbatch=1\nsubdivisions=1");
    }
    const std::string tmp = (std::filesystem::temp_directory_path() / "mabdet_cfg_test.cfg").string();
    std::ofstream(tmp) << cfg;
    Detector det = Detector::from_file(tmp);
    CHECK(det.classes() > 0);
    CHECK(det.has_masks() == (path.find("mask_rcnn") != std::string::npos));
    if (!small) continue;
    Network& net = det.net();
    Batch b;
    synthetic_batch(b, net.config().sub_batch(), 160);
    Context ctx;
    ctx.train = true;
    ctx.batch = &b;
    net.forward(ctx, b.images);
    for (const LossTerm& t : net.loss_terms()) {
      CAPTURE(t.name);
      CHECK(std::isfinite(t.value));
    }
    CHECK(net.loss_terms().size() == 5);
    net.backward(ctx);
    std::vector<std::vector<Detection>> dets;
    Batch one;
    synthetic_batch(one, 1, 160);
    det.detect(ctx, one, dets);
    CHECK(dets.size() == 1);
    std::filesystem::remove(tmp);
  }
}
