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

// A COCO segmentation: a list of polygons, or {"size": [h, w], "counts": string | [ints]}.
inline uint32_t get_segm(od::value v, SegmStore& store, Scratch& s) {
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
        str = c.get_string();
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
  return have_str ? store.add_string(str, uint32_t(hw[0]), uint32_t(hw[1]))
                  : store.add_counts(s.nums, uint32_t(hw[0]), uint32_t(hw[1]));
}

}  // namespace mabdet::json
