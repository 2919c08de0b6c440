// simdjson on-demand helpers shared by the ground-truth and results loaders (internal header).
#pragma once
#include <simdjson.h>

#include <string>
#include <vector>

#include "mabdet/coco_eval.h"
#include "mabdet/error.h"

namespace mabdet::json {

namespace od = simdjson::ondemand;

// Reused buffers so that parsing 500k entries does not allocate per entry.
struct Scratch {
  std::vector<double> nums;
  std::vector<uint32_t> lens;
};

inline int64_t get_id(od::value v, const char* field) {
  int64_t x;
  if (v.get_int64().get(x)) fail("field '", field, "' is not an integer");
  return x;
}

inline double get_num(od::value v, const char* field) {
  double x;
  if (v.get_double().get(x)) fail("field '", field, "' is not a number");
  return x;
}

// Reads up to 4 numbers; returns how many the array held (so [] and wrong lengths are visible).
inline size_t get_box(od::value v, BoxXYWH& box) {
  od::array arr;
  if (v.get_array().get(arr)) fail("field 'bbox' is not an array");
  size_t n = 0;
  for (auto el : arr) {
    double x;
    if (el.get_double().get(x)) fail("field 'bbox' holds a value that is not a number");
    if (n < 4) box[n] = x;
    ++n;
  }
  return n;
}

// Unescapes a json string in place, inside the document text (it only shrinks), and returns its
// extent: saves copying half a gigabyte of RLE strings for a big results file. raw points just
// after the opening quote, as simdjson's raw_json_string does.
inline std::string_view unescape_in_place(const char* raw) {
  char* out = const_cast<char*>(raw);
  char* const start = out;
  const char* in = raw;
  while (*in != '"') {
    if (*in != '\\') {
      *out++ = *in++;
      continue;
    }
    const char c = in[1];
    in += 2;
    switch (c) {
      case '"': case '\\': case '/': *out++ = c; break;
      case 'b': *out++ = '\b'; break;
      case 'f': *out++ = '\f'; break;
      case 'n': *out++ = '\n'; break;
      case 'r': *out++ = '\r'; break;
      case 't': *out++ = '\t'; break;
      case 'u': {
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
          const char h = in[i];
          v = v * 16 + unsigned(h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0');
        }
        if (v >= 0x80) fail("field 'segmentation.counts' has a non-ASCII character");
        *out++ = char(v);
        in += 4;
        break;
      }
      default: fail("field 'segmentation.counts' has a bad escape");
    }
  }
  return std::string_view(start, size_t(out - start));
}

// A COCO segmentation: a list of polygons, or {"size": [h, w], "counts": string | [ints]}.
// With text (the mutable document buffer) given, count strings are unescaped in place and
// stored as references into it (the store must adopt that buffer); otherwise they are copied.
inline uint32_t get_segm(od::value v, SegmStore& store, Scratch& s, const char* text = nullptr) {
  od::json_type t;
  if (v.type().get(t)) fail("field 'segmentation' is malformed");
  if (t == od::json_type::array) {
    s.nums.clear();
    s.lens.clear();
    for (auto poly : v.get_array()) {
      od::array pa;
      if (poly.get_array().get(pa)) fail("field 'segmentation' is a list whose items are not polygons");
      uint32_t n = 0;
      for (auto c : pa) {
        double x;
        if (c.get_double().get(x)) fail("field 'segmentation' has a polygon value that is not a number");
        s.nums.push_back(x);
        ++n;
      }
      s.lens.push_back(n);
    }
    return store.add_polygons(s.nums, s.lens);
  }
  if (t != od::json_type::object) fail("field 'segmentation' is neither polygons nor an RLE object");
  int64_t hw[2] = {-1, -1};
  std::string_view str;
  bool have_str = false, have_counts = false;
  s.nums.clear();
  for (auto f : v.get_object()) {
    od::raw_json_string key = f.key();
    if (key == "size") {
      size_t n = 0;
      for (auto el : f.value().get_array()) {
        if (n < 2) hw[n] = get_id(el.value(), "segmentation.size");
        ++n;
      }
      if (n != 2) fail("field 'segmentation.size' must be [height, width]");
    } else if (key == "counts") {
      od::value c = f.value();
      if (c.type() == od::json_type::string) {
        str = text ? unescape_in_place(c.get_raw_json_string().value().raw()) : std::string_view(c.get_string());
        have_str = true;
      } else {
        for (auto el : c.get_array()) s.nums.push_back(get_num(el.value(), "segmentation.counts"));
      }
      have_counts = true;
    }
  }
  if (hw[0] < 0 || hw[1] < 0 || hw[0] > 1000000 || hw[1] > 1000000)
    fail("field 'segmentation' lacks a valid 'size' [height, width]");
  if (!have_counts) fail("field 'segmentation' lacks 'counts'");
  if (have_str && text)
    return store.add_string_ref(uint64_t(str.data() - text), str.size(), uint32_t(hw[0]), uint32_t(hw[1]));
  return have_str ? store.add_string(str, uint32_t(hw[0]), uint32_t(hw[1]))
                  : store.add_counts(s.nums, uint32_t(hw[0]), uint32_t(hw[1]));
}

}  // namespace mabdet::json
