// Loads a COCO instances json (ground truth) with simdjson: images and categories first, then a
// second pass over the annotations, so their mapping does not depend on key order in the file.
#include <algorithm>

#include "eval/json_util.h"
#include "mabdet/file_check.h"

namespace mabdet {

namespace od = simdjson::ondemand;

static int32_t lookup(const std::vector<std::pair<int64_t, int32_t>>& v, int64_t id) {
  auto it = std::lower_bound(v.begin(), v.end(), std::make_pair(id, INT32_MIN));
  return it != v.end() && it->first == id ? it->second : -1;
}

int32_t CocoGroundTruth::image_index(int64_t id) const { return lookup(image_lookup_, id); }
int32_t CocoGroundTruth::category_index(int64_t id) const { return lookup(cat_lookup_, id); }

struct CocoGtBuilder {
  struct Image { int64_t id; int64_t h, w; };

  static void images(od::array arr, std::vector<Image>& out, size_t& idx) {
    for (auto el : arr) {
      Image im{0, -1, -1};
      bool has_id = false;
      for (auto f : el.get_object()) {
        od::raw_json_string k = f.key();
        if (k == "id") { im.id = json::get_id(f.value(), "id"); has_id = true; }
        else if (k == "height") im.h = json::get_id(f.value(), "height");
        else if (k == "width") im.w = json::get_id(f.value(), "width");
      }
      if (!has_id) fail("missing field 'id'");
      if (im.h < 0 || im.w < 0 || im.h > 1000000 || im.w > 1000000)
        fail("missing or invalid 'height'/'width'");
      out.push_back(im);
      ++idx;
    }
  }

  static void categories(od::array arr, std::vector<CocoCategory>& out, size_t& idx) {
    for (auto el : arr) {
      CocoCategory c{0, ""};
      bool has_id = false;
      for (auto f : el.get_object()) {
        od::raw_json_string k = f.key();
        if (k == "id") { c.id = json::get_id(f.value(), "id"); has_id = true; }
        else if (k == "name") c.name = std::string(std::string_view(f.value().get_string()));
      }
      if (!has_id) fail("missing field 'id'");
      out.push_back(std::move(c));
      ++idx;
    }
  }

  static void annotations(od::array arr, CocoGroundTruth& gt, size_t& idx) {
    json::Scratch s;
    for (auto el : arr) {
      CocoGroundTruth::Ann a{0, -1, -1, 0, {0, 0, 0, 0}, false, 0};
      bool has_id = false, has_img = false, has_cat = false, has_area = false, has_segm = false;
      size_t nbox = 0;
      int64_t img_id = 0, cat_id = 0;
      for (auto f : el.get_object()) {
        od::raw_json_string k = f.key();
        if (k == "id") { a.id = json::get_id(f.value(), "id"); has_id = true; }
        else if (k == "image_id") { img_id = json::get_id(f.value(), "image_id"); has_img = true; }
        else if (k == "category_id") { cat_id = json::get_id(f.value(), "category_id"); has_cat = true; }
        else if (k == "area") { a.area = json::get_num(f.value(), "area"); has_area = true; }
        else if (k == "bbox") nbox = json::get_box(f.value(), a.bbox);
        else if (k == "iscrowd") a.crowd = json::get_num(f.value(), "iscrowd") != 0;
        else if (k == "segmentation") { a.segm = json::get_segm(f.value(), gt.segms, s); has_segm = true; }
      }
      if (!has_id) fail("missing field 'id' (pycocotools cannot index annotations without ids)");
      if (!has_img) fail("missing field 'image_id'");
      if (!has_cat) fail("missing field 'category_id'");
      if (!has_area) fail("missing field 'area'");
      if (nbox != 4) fail(nbox ? "field 'bbox' must hold 4 numbers" : "missing field 'bbox'");
      if (!has_segm) a.segm = gt.segms.add_none();
      // Annotations of images or categories the file does not list are never evaluated.
      a.img = gt.image_index(img_id);
      a.cat = gt.category_index(cat_id);
      if (a.img >= 0 && a.cat >= 0) gt.anns.push_back(a);
      ++idx;
    }
  }

  // Sorted, de-duplicated ids (a later duplicate wins, as in a Python dict).
  template <class T, class Id>
  static void sort_unique(std::vector<T>& v, Id id) {
    std::stable_sort(v.begin(), v.end(), [&](const T& a, const T& b) { return id(a) < id(b); });
    std::vector<T> out;
    for (size_t i = 0; i < v.size(); ++i)
      if (i + 1 == v.size() || id(v[i + 1]) != id(v[i])) out.push_back(std::move(v[i]));
    v.swap(out);
  }

  static CocoGroundTruth load(const std::string& path) {
    CocoGroundTruth gt;
    gt.path = path;
    simdjson::padded_string text;
    require_file(path, "a ground-truth json");
    if (simdjson::padded_string::load(path).get(text)) fail(path, ": cannot read file");
    od::parser parser;
    const char* section = "";
    size_t idx = 0;
    try {
      od::document doc = parser.iterate(text);
      std::vector<Image> imgs;
      od::object root;
      if (auto err = doc.get_object().get(root)) {
        if (err == simdjson::INCORRECT_TYPE) fail("the top level is not a json object");
        fail("malformed json (", simdjson::error_message(err), ")");
      }
      for (auto f : root) {
        od::raw_json_string k = f.key();
        if (k == "images") { section = "images"; idx = 0; images(f.value().get_array(), imgs, idx); }
        else if (k == "categories") {
          section = "categories"; idx = 0;
          categories(f.value().get_array(), gt.categories, idx);
        }
      }
      section = "";
      sort_unique(imgs, [](const Image& i) { return i.id; });
      sort_unique(gt.categories, [](const CocoCategory& c) { return c.id; });
      for (size_t i = 0; i < imgs.size(); ++i) {
        gt.image_ids.push_back(imgs[i].id);
        gt.image_h.push_back(uint32_t(imgs[i].h));
        gt.image_w.push_back(uint32_t(imgs[i].w));
        gt.image_lookup_.push_back({imgs[i].id, int32_t(i)});
      }
      for (size_t i = 0; i < gt.categories.size(); ++i)
        gt.cat_lookup_.push_back({gt.categories[i].id, int32_t(i)});
      doc.rewind();
      for (auto f : doc.get_object()) {
        if (f.key() != "annotations") continue;
        section = "annotations"; idx = 0;
        annotations(f.value().get_array(), gt, idx);
      }
    } catch (const simdjson::simdjson_error& e) {
      if (*section) fail(path, ": ", section, " entry ", idx, ": malformed json (", e.what(), ")");
      fail(path, ": malformed json (", e.what(), ")");
    } catch (const Error& e) {
      if (*section) fail(path, ": ", section, " entry ", idx, ": ", e.what());
      fail(path, ": ", e.what());
    }
    return gt;
  }
};

CocoGroundTruth CocoGroundTruth::load(const std::string& path) { return CocoGtBuilder::load(path); }

}  // namespace mabdet
