// mabdet detect CFG WEIGHTS IMAGE|FOLDER... [-thresh T] [-out RESULTS.json] [-outdir DIR] [-data DATA]
// Prints every detection above the threshold, writes each image with its detections drawn to
// DIR/STEM_det.png (DIR: predictions/ by default), and with -out the detections in COCO results
// form: image ids in argument order from 1; category ids and names from -data's json when given,
// else K + 1 and "classK".
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "cli/commands.h"
#include "mabdet/data/datafile.h"
#include "mabdet/data/image.h"
#include "mabdet/detect/draw.h"
#include "mabdet/detect/image_args.h"
#include "mabdet/detect/results_json.h"
#include "mabdet/detector.h"
#include "mabdet/error.h"
#include "mabdet/weights.h"

namespace mabdet::cli {

int detect(const Args& a) {
  const char* usage =
      "usage: mabdet detect CFG WEIGHTS IMAGE|FOLDER... [-thresh T] [-out RESULTS.json] [-outdir DIR] [-data DATA]";
  std::vector<std::string> pos;
  std::string out_json, outdir = "predictions", data;
  double thresh = 0.5;
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string& s = a[i];
    const bool v = i + 1 < a.size();
    if ((s == "-thresh" || s == "--thresh") && v) {
      char* end = nullptr;
      thresh = std::strtod(a[++i].c_str(), &end);
      if (a[i].empty() || *end || !(thresh >= 0 && thresh <= 1)) fail("-thresh: expected a score in [0, 1], got '", a[i], "'");
    } else if ((s == "-out" || s == "--out") && v) {
      out_json = a[++i];
    } else if ((s == "-outdir" || s == "--outdir") && v) {
      outdir = a[++i];
    } else if ((s == "-data" || s == "--data") && v) {
      data = a[++i];
    } else if (s.size() > 1 && s[0] == '-') {
      fail("detect: unknown option '", s, "'\n", usage);
    } else {
      pos.push_back(s);
    }
  }
  if (pos.size() < 3) fail(usage);
  Detector det = Detector::from_file(pos[0]);
  load_weights(pos[1], det.net(), nullptr);
  det.net().drop_param_grads();  // inference alone: no training buffers
  const std::vector<std::string> images = detect::expand_image_args({pos.begin() + 2, pos.end()});
  // Class names and COCO ids: from a .data file when given, else "class K" and K + 1.
  std::vector<std::string> names;
  std::vector<int64_t> ids;
  if (!data.empty()) {
    DataFile df = read_datafile(data);
    CocoDataset ds = load_split(df, df.val_json.empty() ? "train" : "val", false);
    if (ds.num_classes() != det.classes())
      fail(data, ": ", ds.num_classes(), " categories, but ", pos[0], " has classes=", det.classes());
    names = ds.category_names;
    ids = ds.category_ids;
  }
  for (int k = int(names.size()); k < det.classes(); ++k) {
    names.push_back(cat("class", k));
    ids.push_back(k + 1);
  }
  std::error_code ec;
  std::filesystem::create_directories(outdir, ec);
  if (ec) fail(outdir, ": cannot create the output folder (", ec.message(), ")");
  Context ctx;
  Batch b;
  std::vector<float> scratch;
  std::vector<std::vector<Detection>> dets;
  std::vector<CocoDetection> coco;
  for (size_t i = 0; i < images.size(); ++i) {
    const Image img = decode_image(images[i]);
    image_batch(img, det.augment(), b, scratch);
    det.detect(ctx, b, dets, true);
    std::vector<detect::DrawItem> items;
    int shown = 0;
    for (const Detection& d : dets[0]) {
      if (d.score < thresh) continue;
      ++shown;
      std::printf("%s: %s %.1f%%  box %.1f %.1f %.1f %.1f\n", images[i].c_str(), names[size_t(d.label)].c_str(),
                  100.0 * d.score, d.box[0], d.box[1], d.box[2], d.box[3]);
      detect::DrawItem it;
      for (int k = 0; k < 4; ++k) it.box[k] = d.box[k];
      it.label = names[size_t(d.label)];
      it.score = d.score;
      it.mask = d.has_mask ? &d.bitmap : nullptr;
      it.color = d.label;
      items.push_back(it);
      CocoDetection c;
      c.image_id = int64_t(i) + 1;
      c.category_id = ids[size_t(d.label)];
      c.score = d.score;
      c.bbox = BoxXYWH{d.box[0], d.box[1], double(d.box[2]) - d.box[0], double(d.box[3]) - d.box[1]};
      if (d.has_mask) c.segm = d.mask;
      coco.push_back(std::move(c));
    }
    const std::string stem = std::filesystem::path(images[i]).stem().string();
    const std::string drawn = cat(outdir, "/", stem, "_det.png");
    detect::write_detections_image(drawn, img, items);
    std::printf("%s: %d detections above %.2f -> %s\n", images[i].c_str(), shown, thresh, drawn.c_str());
  }
  if (!out_json.empty()) {
    detect::write_coco_results(out_json, coco);
    std::printf("results: %s (%zu detections)\n", out_json.c_str(), coco.size());
  }
  return 0;
}

}  // namespace mabdet::cli
