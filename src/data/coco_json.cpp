// COCO instances json loading with simdjson's DOM parser (instances_train2017.json is ~450 MB;
// simdjson reads it several times faster than a tree-building parser such as nlohmann).
#include <simdjson.h>

#include <algorithm>
#include <ostream>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "mabdet/data/coco.h"
#include "mabdet/error.h"
#include "mabdet/file_check.h"
#include "mabdet/mask.h"

namespace mabdet {
namespace {
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// Image sides and coordinates beyond these are a broken file, not a picture: COCO's are < 1e4.
constexpr int64_t kMaxImageSide = 1000000;
constexpr double kMaxCoord = kMaxPolygonCoord;

// The record being read, for messages: "annotation id 7", "image #3", "top level". Formatted
// only when a message is built (a string per record costs seconds on COCO's 860k annotations).
struct Where {
  const char* label;
  int64_t n = 0;
  bool numbered = false;
};
std::ostream& operator<<(std::ostream& os, const Where& w) {
  os << w.label;
  if (w.numbered) os << w.n;
  return os;
}
Where numbered(const char* label, int64_t n) { return Where{label, n, true}; }

// Typed field access whose errors name the file, the record and the field.
struct Reader {
  const std::string& name;
  Where what;

  element field(object o, const char* key) const {
    element e;
    if (o[key].get(e)) fail(name, ": ", what, ": missing field '", key, "'");
    return e;
  }
  bool has(object o, const char* key) const {
    element e;
    return !o[key].get(e) && !e.is_null();
  }
  int64_t i64(element e, const char* key) const {
    int64_t v;
    if (!e.get_int64().get(v)) return v;
    double d;
    if (!e.get_double().get(d) && d == std::floor(d) && std::fabs(d) < 9e15) return int64_t(d);
    fail(name, ": ", what, ": field '", key, "' is not an integer");
  }
  double num(element e, const char* key) const {
    double v;
    if (e.get_double().get(v)) fail(name, ": ", what, ": field '", key, "' is not a number");
    return v;
  }
  std::string str(element e, const char* key) const {
    std::string_view v;
    if (e.get_string().get(v)) fail(name, ": ", what, ": field '", key, "' is not a string");
    return std::string(v);
  }
  array arr(element e, const char* key) const {
    array a;
    if (e.get_array().get(a)) fail(name, ": ", what, ": field '", key, "' is not an array");
    return a;
  }
};

std::string join_path(const std::string& dir, const std::string& file) {
  if (dir.empty() || (!file.empty() && file[0] == '/')) return file;
  return dir.back() == '/' ? dir + file : dir + "/" + file;
}

// Appends a message while under the per-case cap; the count itself is always kept by the caller.
void note(CocoLoadReport& r, int count_after, int cap, const std::string& msg) {
  if (count_after <= cap) r.messages.push_back(msg);
}

// Segmentation -> GtMask. Returns false when the annotation has no usable polygon (skip it).
bool read_segmentation(const Reader& rd, element seg, const ImageRecord& img, GtMask& out) {
  if (seg.is_array()) {
    array polys = rd.arr(seg, "segmentation");
    if (polys.size() == 0) return true;  // "segmentation": [] means none: the box alone is kept
    for (element poly : polys) {
      std::vector<double> pts;
      for (element v : rd.arr(poly, "segmentation")) {
        pts.push_back(rd.num(v, "segmentation"));
        if (!(std::fabs(pts.back()) <= kMaxCoord))
          fail(rd.name, ": ", rd.what, ": polygon coordinate ", pts.back(), " is outside -", kMaxCoord, "..", kMaxCoord);
      }
      // Detectron2 drops polygons with an odd coordinate count or fewer than 3 points.
      if (pts.size() % 2 == 0 && pts.size() >= 6) out.polygons.push_back(std::move(pts));
    }
    out.kind = GtMask::Kind::Polygons;
    return !out.polygons.empty();
  }
  object o;
  if (seg.get_object().get(o)) fail(rd.name, ": ", rd.what, ": segmentation is neither a polygon list nor an RLE object");
  array size = rd.arr(rd.field(o, "size"), "size");
  std::vector<int64_t> hw;
  for (element v : size) hw.push_back(rd.i64(v, "size"));
  if (hw.size() != 2 || hw[0] != img.height || hw[1] != img.width)
    fail(rd.name, ": ", rd.what, ": RLE size does not match image ", img.id, " (", img.height, "x", img.width, ")");
  out.kind = GtMask::Kind::Rle;
  out.h = int(hw[0]);
  out.w = int(hw[1]);
  element counts = rd.field(o, "counts");
  if (counts.is_string()) {
    out.compressed = rd.str(counts, "counts");
    // Decode once here so a corrupt string fails at load time, naming the annotation.
    Rle r;
    try {
      r = rle_from_string(out.compressed, uint32_t(out.h), uint32_t(out.w));
    } catch (const Error& e) {
      fail(rd.name, ": ", rd.what, ": ", e.what());
    }
    uint64_t total = 0;
    for (uint32_t c : r.counts) total += c;
    if (total != uint64_t(out.h) * uint64_t(out.w))
      fail(rd.name, ": ", rd.what, ": compressed RLE covers ", total, " pixels, expected h*w = ", uint64_t(out.h) * out.w);
  } else {
    uint64_t total = 0;
    for (element v : rd.arr(counts, "counts")) {
      int64_t c = rd.i64(v, "counts");
      if (c < 0) fail(rd.name, ": ", rd.what, ": negative RLE count");
      out.counts.push_back(uint32_t(c));
      total += uint64_t(c);
    }
    if (total != uint64_t(out.h) * uint64_t(out.w))
      fail(rd.name, ": ", rd.what, ": RLE counts sum to ", total, ", expected h*w = ", uint64_t(out.h) * out.w);
  }
  return true;
}
}  // namespace

std::string CocoLoadReport::summary(const std::string& json) const {
  if (!empty_box && !bad_polygon && !unknown_image && !empty_images) return "";
  return cat(json, ": skipped ", empty_box, " annotations with empty boxes, ", bad_polygon,
             " with no valid polygon, ", unknown_image, " pointing to unknown images; dropped ", empty_images,
             " images without annotations");
}

int CocoDataset::label_of(int64_t category_id) const {
  auto it = std::lower_bound(category_ids.begin(), category_ids.end(), category_id);
  return (it != category_ids.end() && *it == category_id) ? int(it - category_ids.begin()) : -1;
}

int64_t CocoDataset::category_id(int label) const {
  if (label < 0 || label >= num_classes()) fail("label ", label, " outside 0..", num_classes() - 1);
  return category_ids[size_t(label)];
}

namespace {
// Parses from simdjson's padded buffer: reading the file straight into one avoids a second copy
// of instances_train2017.json (~450 MB) that parsing a plain string would make.
CocoDataset parse_coco(const simdjson::padded_string& text, const std::string& name, const std::string& image_dir,
                       const CocoLoadOptions& opt) {
  simdjson::dom::parser parser;
  element doc;
  if (auto err = parser.parse(text).get(doc)) fail(name, ": corrupt json (", simdjson::error_message(err), ")");
  object root;
  if (doc.get_object().get(root)) fail(name, ": corrupt json (top level is not an object)");

  CocoDataset ds;
  ds.json_path = name;
  ds.image_dir = image_dir;
  Reader rd{name, Where{"top level"}};

  // Categories, sorted by id: labels follow id order whatever order the json lists them in.
  std::vector<std::pair<int64_t, std::string>> cats;
  for (element c : rd.arr(rd.field(root, "categories"), "categories")) {
    object o;
    if (c.get_object().get(o)) fail(name, ": categories must hold objects");
    rd.what = numbered("category #", int64_t(cats.size()));
    cats.emplace_back(rd.i64(rd.field(o, "id"), "id"), rd.str(rd.field(o, "name"), "name"));
  }
  rd.what = Where{"top level"};  // fields of the root below are not a category's
  std::sort(cats.begin(), cats.end());
  for (size_t i = 0; i < cats.size(); ++i) {
    if (i && cats[i].first == cats[i - 1].first) fail(name, ": category id ", cats[i].first, " repeated");
    ds.category_ids.push_back(cats[i].first);
    ds.category_names.push_back(cats[i].second);
  }

  std::unordered_map<int64_t, size_t> index_of;
  for (element e : rd.arr(rd.field(root, "images"), "images")) {
    object o;
    if (e.get_object().get(o)) fail(name, ": images must hold objects");
    ImageRecord img;
    rd.what = numbered("image #", int64_t(ds.images.size()));
    img.id = rd.i64(rd.field(o, "id"), "id");
    rd.what = numbered("image id ", img.id);
    img.file = join_path(image_dir, rd.str(rd.field(o, "file_name"), "file_name"));
    // Read as int64 and range-checked before narrowing: 4294967552 must not become 256.
    for (const char* key : {"width", "height"}) {
      const int64_t v = rd.i64(rd.field(o, key), key);
      if (v <= 0 || v > kMaxImageSide)
        fail(name, ": image id ", img.id, ": ", key, " ", v, " is outside 1..", kMaxImageSide);
      (key[0] == 'w' ? img.width : img.height) = int(v);
    }
    if (!index_of.emplace(img.id, ds.images.size()).second) fail(name, ": image id ", img.id, " repeated");
    ds.images.push_back(std::move(img));
  }

  CocoLoadReport& rep = ds.report;
  element anns_el;
  std::unordered_set<int64_t> ann_ids;
  if (!root["annotations"].get(anns_el)) {  // absent in test-dev style image-info files
    for (element e : rd.arr(anns_el, "annotations")) {
      object o;
      if (e.get_object().get(o)) fail(name, ": annotations must hold objects");
      Annotation a;
      rd.what = numbered("annotation #", int64_t(ann_ids.size()));
      a.id = rd.i64(rd.field(o, "id"), "id");
      rd.what = numbered("annotation id ", a.id);
      if (!ann_ids.insert(a.id).second) fail(name, ": annotation id ", a.id, " repeated");
      int64_t image_id = rd.i64(rd.field(o, "image_id"), "image_id");
      int64_t cat_id = rd.i64(rd.field(o, "category_id"), "category_id");
      a.label = ds.label_of(cat_id);
      if (a.label < 0) fail(name, ": annotation id ", a.id, ": category_id ", cat_id, " is not among 'categories'");
      auto it = index_of.find(image_id);
      if (it == index_of.end()) {
        ++rep.unknown_image;
        note(rep, rep.unknown_image, opt.max_messages,
             cat(name, ": annotation id ", a.id, ": image_id ", image_id, " is not among 'images', skipped"));
        continue;
      }
      ImageRecord& img = ds.images[it->second];
      std::vector<double> bb;
      for (element v : rd.arr(rd.field(o, "bbox"), "bbox")) bb.push_back(rd.num(v, "bbox"));
      if (bb.size() != 4) fail(name, ": annotation id ", a.id, ": bbox must have 4 numbers");
      // A value that is no pixel coordinate (1e308 overflows x + w, and floats) is an error in the
      // file, not an empty box to skip quietly.
      for (double v : bb)
        if (!(std::fabs(v) <= kMaxCoord))
          fail(name, ": annotation id ", a.id, ": bbox value ", v, " is outside -", kMaxCoord, "..", kMaxCoord);
      a.crowd = rd.has(o, "iscrowd") && rd.i64(rd.field(o, "iscrowd"), "iscrowd") != 0;
      const double area = rd.has(o, "area") ? rd.num(rd.field(o, "area"), "area") : bb[2] * bb[3];
      if (!(std::fabs(area) <= 1e30)) fail(name, ": annotation id ", a.id, ": area ", area, " is outside -1e30..1e30");
      a.area = float(area);
      if (!(bb[2] > 0) || !(bb[3] > 0) || !std::isfinite(bb[0] + bb[1] + bb[2] + bb[3])) {
        ++rep.empty_box;
        note(rep, rep.empty_box, opt.max_messages,
             cat(name, ": annotation id ", a.id, ": box w=", bb[2], " h=", bb[3], " is empty, skipped"));
        continue;
      }
      a.box[0] = float(bb[0]);
      a.box[1] = float(bb[1]);
      a.box[2] = float(bb[0] + bb[2]);
      a.box[3] = float(bb[1] + bb[3]);
      if (opt.masks && rd.has(o, "segmentation")) {
        if (!read_segmentation(rd, rd.field(o, "segmentation"), img, a.mask)) {
          ++rep.bad_polygon;
          note(rep, rep.bad_polygon, opt.max_messages,
               cat(name, ": annotation id ", a.id, ": no polygon with >= 3 points, skipped"));
          continue;
        }
      }
      img.anns.push_back(std::move(a));
    }
  }

  if (opt.filter_empty) {
    auto has_target = [](const ImageRecord& im) {
      return std::any_of(im.anns.begin(), im.anns.end(), [](const Annotation& a) { return !a.crowd; });
    };
    size_t before = ds.images.size();
    ds.images.erase(std::remove_if(ds.images.begin(), ds.images.end(), [&](const ImageRecord& im) { return !has_target(im); }),
                    ds.images.end());
    rep.empty_images = int(before - ds.images.size());
  }
  return ds;
}

}  // namespace

CocoDataset load_coco_text(const std::string& text, const std::string& name, const std::string& image_dir,
                           const CocoLoadOptions& opt) {
  return parse_coco(simdjson::padded_string(text), name, image_dir, opt);
}

CocoDataset load_coco(const std::string& json_path, const std::string& image_dir, const CocoLoadOptions& opt) {
  simdjson::padded_string text;
  require_file(json_path, "an annotation file");
  if (simdjson::padded_string::load(json_path).get(text)) fail(json_path, ": cannot open annotation file");
  return parse_coco(text, json_path, image_dir, opt);
}

}  // namespace mabdet
