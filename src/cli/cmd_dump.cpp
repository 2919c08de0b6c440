// mabdet dump CFG WEIGHTS IMAGE OUTDIR [--layers L,...] [-out RESULTS.json]: one inference forward
// on IMAGE, every port of the named layers written as OUTDIR/LAYER.PORT.npy (float32 or int32;
// numpy loads them). It is how the whole-model parity scripts compare mabdet with torchvision stage
// by stage (proposals, box head outputs, detections) without running the network twice. A
// detector cfg gets the image as `detect` feeds it (test_size, padding), and -out writes every
// detection as `detect -thresh 0 -out` does (image id 1, category id K + 1); any other cfg gets it
// resized to cover width x height and centre-cropped, normalized with the ImageNet mean/std (the
// classifier image sets' default). L is a layer's name= or its index; without --layers, the last.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "mabdet/cfg_net.h"
#include "cli/commands.h"
#include "mabdet/data/batch.h"
#include "mabdet/data/crop.h"
#include "mabdet/data/image.h"
#include "mabdet/detect/results_json.h"
#include "mabdet/error.h"
#include "mabdet/weights.h"

namespace mabdet::cli {
namespace {

// numpy's .npy version 1.0: magic, header length, a dict padded so the data starts 64-aligned.
void write_npy(const std::string& path, const char* descr, const Shape& s, const void* data, size_t bytes) {
  std::string hdr = cat("{'descr': '", descr, "', 'fortran_order': False, 'shape': (", s.n, ", ", s.c, ", ", s.h,
                        ", ", s.w, "), }");
  while ((10 + hdr.size() + 1) % 64) hdr += ' ';
  hdr += '\n';
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) fail(path, ": cannot write");
  const uint16_t len = uint16_t(hdr.size());
  bool ok = std::fwrite("\x93NUMPY\x01\x00", 1, 8, f) == 8 && std::fwrite(&len, 2, 1, f) == 1 &&
            std::fwrite(hdr.data(), 1, hdr.size(), f) == hdr.size() && (!bytes || std::fwrite(data, 1, bytes, f) == bytes);
  ok = std::fclose(f) == 0 && ok;
  if (!ok) fail(path, ": write failed");
}

size_t layer_index(Network& net, const std::string& ref) {
  for (size_t i = 0; i < net.size(); ++i)
    if (net.name(i) == ref) return i;
  char* end = nullptr;
  const long i = std::strtol(ref.c_str(), &end, 10);
  if (ref.empty() || *end || i < 0 || size_t(i) >= net.size())
    fail("dump --layers: '", ref, "' is neither a layer name nor an index below ", net.size());
  return size_t(i);
}

}  // namespace

int dump(const Args& a) {
  const char* usage = "usage: mabdet dump CFG WEIGHTS IMAGE OUTDIR [--layers NAME|INDEX,...] [-out RESULTS.json]";
  std::vector<std::string> pos, layers;
  std::string out_json;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == "--layers" && i + 1 < a.size()) {
      for (size_t at = 0, next; at <= a[i + 1].size(); at = next + 1) {
        next = a[i + 1].find(',', at);
        if (next == std::string::npos) next = a[i + 1].size();
        layers.push_back(a[i + 1].substr(at, next - at));
      }
      ++i;
    } else if ((a[i] == "-out" || a[i] == "--out") && i + 1 < a.size()) {
      out_json = a[++i];
    } else if (a[i].size() > 1 && a[i][0] == '-') {
      fail("dump: unknown option '", a[i], "'\n", usage);
    } else {
      pos.push_back(a[i]);
    }
  }
  if (pos.size() != 4) fail(usage);
  LoadedNet n = load_cfg_net(pos[0]);
  Network& net = *n.net;
  net.set_lean_memory(false);  // dump reads any layer's ports after the forward: all must stay
  load_weights(pos[1], net, nullptr);
  const Image img = decode_image(pos[2]);
  std::error_code ec;
  std::filesystem::create_directories(pos[3], ec);
  if (ec) fail(pos[3], ": cannot create the output folder (", ec.message(), ")");
  Context ctx;
  Batch b;
  std::vector<float> scratch;
  if (n.det) {
    image_batch(img, n.det->augment(), b, scratch);
    std::vector<std::vector<Detection>> dets;
    n.det->detect(ctx, b, dets);
    std::vector<CocoDetection> coco;
    for (const Detection& d : dets[0]) {
      CocoDetection c;
      c.image_id = 1;
      c.category_id = d.label + 1;
      c.score = d.score;
      c.bbox = BoxXYWH{d.box[0], d.box[1], double(d.box[2]) - d.box[0], double(d.box[3]) - d.box[1]};
      if (d.has_mask) c.segm = d.mask;
      coco.push_back(std::move(c));
    }
    if (!out_json.empty()) detect::write_coco_results(out_json, coco);
  } else {
    if (!out_json.empty()) fail("dump -out: ", pos[0], " is not a detector cfg");
    const NetConfig& c = net.config();
    const AugmentCfg defaults;
    Tensor x(1, c.channels, c.height, c.width);
    if (c.channels != 3) fail(pos[0], ": dump feeds RGB images; the cfg has channels=", c.channels);
    resize_center_crop(img, c.width, c.height, false, defaults.mean, defaults.std, x.data(), scratch);
    ctx.train = false;
    net.forward(ctx, x);
  }
  if (layers.empty()) layers.push_back(std::to_string(net.size() - 1));
  for (const std::string& ref : layers) {
    const size_t i = layer_index(net, ref);
    const std::string stem = cat(pos[3], "/", net.name(i).empty() ? std::to_string(i) : net.name(i));
    for (const Port& p : net.layer(i).ports()) {
      const std::string path = cat(stem, ".", p.name.empty() ? "out" : p.name, ".npy");
      if (p.kind == Kind::Index) {
        const IndexTensor& t = net.index_output(i, p.name);
        write_npy(path, "<i4", t.shape(), t.data(), t.size() * sizeof(int32_t));
      } else {
        const Tensor& t = net.output(i, p.name);
        const Tensor host = t.device() == Device::CPU ? Tensor() : t.clone(Device::CPU);
        const Tensor& h = t.device() == Device::CPU ? t : host;
        write_npy(path, "<f4", h.shape(), h.data(), h.size() * sizeof(float));
      }
      std::printf("%s\n", path.c_str());
    }
  }
  return 0;
}

}  // namespace mabdet::cli
