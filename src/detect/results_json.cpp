#include "mabdet/detect/results_json.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "mabdet/atomic_write.h"
#include "mabdet/error.h"

namespace mabdet::detect {
namespace {

// %.17g always round-trips but prints 0.47 as 0.46999999999999997; the shortest of 15-17
// significant digits that parses back to the same bits keeps files readable and exact.
void put_number(std::string& out, double v) {
  char buf[32];
  for (int prec = 15; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  out += buf;
}

void check_finite(double v, size_t i, const char* what) {
  if (!std::isfinite(v)) fail("detection ", i, ": ", what, " is not a finite number (", v, ")");
}

void put_detection(std::string& out, const CocoDetection& d, size_t i, bool boxes) {
  if (!d.bbox && !d.segm) fail("detection ", i, ": has neither a bbox nor a segmentation");
  if (boxes && !d.bbox)
    fail("detection ", i, ": has no bbox but detection 0 has one (readers then require a bbox on every entry)");
  check_finite(d.score, i, "score");
  out += cat("{\"image_id\": ", d.image_id, ", \"category_id\": ", d.category_id);
  if (d.bbox) {
    out += ", \"bbox\": [";
    for (int k = 0; k < 4; ++k) {
      check_finite((*d.bbox)[k], i, "a bbox value");
      if (k) out += ", ";
      put_number(out, (*d.bbox)[k]);
    }
    out += "]";
  }
  out += ", \"score\": ";
  put_number(out, d.score);
  if (d.segm) {
    try {
      rle_check(*d.segm);
    } catch (const Error& e) {
      fail("detection ", i, ": segmentation ", e.what());
    }
    out += cat(", \"segmentation\": {\"size\": [", d.segm->h, ", ", d.segm->w, "], \"counts\": \"");
    // COCO's alphabet is the characters 48..111: no quote, but the backslash (92) needs escaping.
    for (char c : rle_to_string(*d.segm)) {
      if (c == '\\') out += '\\';
      out += c;
    }
    out += "\"}";
  }
  out += "}";
}

}  // namespace

std::string coco_results_json(const std::vector<CocoDetection>& dets) {
  std::string out = "[";
  const bool boxes = !dets.empty() && dets[0].bbox.has_value();
  for (size_t i = 0; i < dets.size(); ++i) {
    out += i ? ",\n " : "";
    put_detection(out, dets[i], i, boxes);
  }
  out += "]\n";
  return out;
}

void write_coco_results(const std::string& path, const std::vector<CocoDetection>& dets) {
  std::string text;
  try {
    text = coco_results_json(dets);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(text.data(), std::streamsize(text.size()));
    f.close();
    if (!f) fail(path, ": write failed (", std::strerror(errno), ")");
  });
}

}  // namespace mabdet::detect
