// COCO json loading: label mapping, crowds, empty images, and every bad-data case's message.
#include <doctest/doctest.h>

#include <functional>

#include "data_fixture.h"
#include "mabdet/cfg.h"
#include "mabdet/data/coco.h"
#include "mabdet/data/datafile.h"
#include "mabdet/data/loader.h"
#include "mabdet/error.h"

using namespace mabdet;
using namespace mabdet::testing;

namespace {
// Two 40x30 images; categories listed out of id order, with gaps.
std::string coco_json(const std::string& anns, const std::string& extra_images = "") {
  return R"({"images": [{"id": 10, "file_name": "a.png", "width": 40, "height": 30},
                        {"id": 11, "file_name": "b.png", "width": 40, "height": 30})" +
         extra_images + R"(],
  "categories": [{"id": 7, "name": "seven"}, {"id": 3, "name": "three"}, {"id": 5, "name": "five"}],
  "annotations": [)" + anns + "]}";
}
const char* kGood =
    R"({"id": 1, "image_id": 10, "category_id": 7, "bbox": [1, 2, 10, 5], "area": 50, "iscrowd": 0,
        "segmentation": [[1, 2, 11, 2, 11, 7, 1, 7]]},
       {"id": 2, "image_id": 10, "category_id": 3, "bbox": [0, 0, 4, 4], "iscrowd": 1,
        "segmentation": {"size": [30, 40], "counts": [0, 4, 26, 4, 26, 4, 26, 4, 1106]}})";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST_CASE("coco: category ids map to contiguous labels in id order and back; crowds kept apart") {
  CocoLoadOptions keep;
  keep.filter_empty = false;
  CocoDataset ds = load_coco_text(coco_json(kGood), "t.json", "imgs", keep);
  REQUIRE(ds.num_classes() == 3);
  CHECK(ds.category_ids == std::vector<int64_t>{3, 5, 7});
  CHECK(ds.category_names[2] == "seven");
  CHECK(ds.label_of(7) == 2);
  CHECK(ds.label_of(4) == -1);
  CHECK(ds.category_id(0) == 3);
  CHECK_THROWS_AS(ds.category_id(3), Error);
  REQUIRE(ds.images.size() == 2);
  CHECK(ds.images[0].file == "imgs/a.png");
  REQUIRE(ds.images[0].anns.size() == 2);
  const Annotation& a = ds.images[0].anns[0];
  CHECK(a.label == 2);
  CHECK(!a.crowd);
  CHECK(a.box[0] == 1);
  CHECK(a.box[2] == 11);  // x + w, no +1
  CHECK(a.box[3] == 7);
  CHECK(a.mask.kind == GtMask::Kind::Polygons);
  CHECK(ds.images[0].anns[1].crowd);
  CHECK(ds.images[0].anns[1].mask.kind == GtMask::Kind::Rle);

  // Images without annotations: dropped by default (filter_empty), as Detectron2 trains.
  CocoDataset filtered = load_coco_text(coco_json(kGood), "t.json", "imgs");
  CHECK(filtered.images.size() == 1);
  CHECK(filtered.report.empty_images == 1);
  // An image whose only annotation is a crowd counts as empty.
  std::string only_crowd = R"({"id": 3, "image_id": 11, "category_id": 3, "bbox": [0, 0, 4, 4], "iscrowd": 1})";
  CHECK(load_coco_text(coco_json(std::string(kGood) + "," + only_crowd), "t.json", "").images.size() == 1);
}

TEST_CASE("coco: skip-and-count cases name the file and the annotation id") {
  std::string anns = std::string(kGood) + R"(,
    {"id": 21, "image_id": 10, "category_id": 5, "bbox": [3, 3, 0, 5]},
    {"id": 22, "image_id": 10, "category_id": 5, "bbox": [3, 3, 4, -1]},
    {"id": 23, "image_id": 10, "category_id": 5, "bbox": [3, 3, 4, 4], "segmentation": [[1, 1, 5, 5]]},
    {"id": 24, "image_id": 99, "category_id": 5, "bbox": [3, 3, 4, 4]})";
  CocoDataset ds = load_coco_text(coco_json(anns), "bad.json", "");
  CHECK(ds.report.empty_box == 2);
  CHECK(ds.report.bad_polygon == 1);
  CHECK(ds.report.unknown_image == 1);
  CHECK(ds.images[0].anns.size() == 2);
  REQUIRE(ds.report.messages.size() == 4);
  CHECK(ds.report.messages[0] == "bad.json: annotation id 21: box w=0 h=5 is empty, skipped");
  CHECK(ds.report.messages[1].find("annotation id 22") != std::string::npos);
  CHECK(ds.report.messages[2] == "bad.json: annotation id 23: no polygon with >= 3 points, skipped");
  CHECK(ds.report.messages[3] == "bad.json: annotation id 24: image_id 99 is not among 'images', skipped");
  CHECK(ds.report.summary("bad.json").find("skipped 2 annotations with empty boxes, 1 with no valid polygon, 1") !=
        std::string::npos);
  // A polygon list that keeps at least one valid polygon keeps the annotation, minus the bad ones.
  std::string mixed = R"({"id": 30, "image_id": 10, "category_id": 5, "bbox": [1, 1, 4, 4],
                          "segmentation": [[1, 1, 5, 5], [1, 1, 5, 1, 5, 5]]})";
  CocoDataset ds2 = load_coco_text(coco_json(mixed), "m.json", "");
  REQUIRE(ds2.images[0].anns.size() == 1);
  CHECK(ds2.images[0].anns[0].mask.polygons.size() == 1);
  // "segmentation": [] is no mask at all (as in Detectron2): the annotation keeps its box.
  std::string none = R"({"id": 31, "image_id": 10, "category_id": 5, "bbox": [1, 1, 4, 4], "segmentation": []})";
  CocoDataset ds3 = load_coco_text(coco_json(none), "n.json", "");
  REQUIRE(ds3.images[0].anns.size() == 1);
  CHECK(ds3.images[0].anns[0].mask.empty());
}

TEST_CASE("coco: fail cases name the file and the annotation id") {
  CHECK(error_of([] { load_coco_text("{\"images\": [", "c.json", ""); }).rfind("c.json: corrupt json (", 0) == 0);
  CHECK(error_of([] { load_coco("/nonexistent/x.json", ""); }) == "/nonexistent/x.json: cannot open annotation file");
  std::string unknown_cat = R"({"id": 41, "image_id": 10, "category_id": 4, "bbox": [1, 1, 4, 4]})";
  CHECK(error_of([&] { load_coco_text(coco_json(unknown_cat), "u.json", ""); }) ==
        "u.json: annotation id 41: category_id 4 is not among 'categories'");
  std::string dup = R"({"id": 1, "image_id": 10, "category_id": 3, "bbox": [1, 1, 4, 4]})";
  CHECK(error_of([&] { load_coco_text(coco_json(std::string(kGood) + "," + dup), "d.json", ""); }) ==
        "d.json: annotation id 1 repeated");
  std::string bad_rle = R"({"id": 42, "image_id": 10, "category_id": 3, "bbox": [1, 1, 4, 4],
                            "segmentation": {"size": [30, 40], "counts": "0 1"}})";
  CHECK(error_of([&] { load_coco_text(coco_json(bad_rle), "r.json", ""); }).rfind("r.json: annotation id 42: ", 0) == 0);
  std::string short_rle = R"({"id": 43, "image_id": 10, "category_id": 3, "bbox": [1, 1, 4, 4],
                              "segmentation": {"size": [30, 40], "counts": [5, 5]}})";
  CHECK(error_of([&] { load_coco_text(coco_json(short_rle), "s.json", ""); }) ==
        "s.json: annotation id 43: RLE counts sum to 10, expected h*w = 1200");
  std::string no_bbox = R"({"id": 44, "image_id": 10, "category_id": 3})";
  CHECK(error_of([&] { load_coco_text(coco_json(no_bbox), "b.json", ""); }) ==
        "b.json: annotation id 44: missing field 'bbox'");
}

TEST_CASE("coco: hostile numbers and a missing 'images' are errors that say what they are") {
  // Categories are read first: a missing top-level field must not be blamed on the last one.
  const std::string no_images = R"({"categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}], "annotations": []})";
  CHECK(error_of([&] { load_coco_text(no_images, "n.json", ""); }) == "n.json: top level: missing field 'images'");
  // 4294967552 = 2^32 + 256: once read as 256.
  const std::string wide = R"({"images": [{"id": 10, "file_name": "a.png", "width": 4294967552, "height": 30}],
    "categories": [{"id": 1, "name": "a"}], "annotations": []})";
  CHECK(error_of([&] { load_coco_text(wide, "w.json", ""); }) ==
        "w.json: image id 10: width 4294967552 is outside 1..1000000");
  std::string huge_box = R"({"id": 45, "image_id": 10, "category_id": 3, "bbox": [1, 1, 1e308, 4]})";
  CHECK(error_of([&] { load_coco_text(coco_json(huge_box), "h.json", ""); }) ==
        "h.json: annotation id 45: bbox value 1e+308 is outside -2e+06..2e+06");
  std::string far_poly = R"({"id": 46, "image_id": 10, "category_id": 3, "bbox": [1, 1, 4, 4],
                             "segmentation": [[1, 1, 1e308, 1, 4, 4]]})";
  CHECK(error_of([&] { load_coco_text(coco_json(far_poly), "p.json", ""); }) ==
        "p.json: annotation id 46: polygon coordinate 1e+308 is outside -2e+06..2e+06");
  std::string huge_area = R"({"id": 47, "image_id": 10, "category_id": 3, "bbox": [1, 1, 4, 4], "area": 1e300})";
  CHECK(error_of([&] { load_coco_text(coco_json(huge_area), "a.json", ""); }) ==
        "a.json: annotation id 47: area 1e+300 is outside -1e30..1e30");
}

TEST_CASE("coco: unreadable images fail when their batch is requested, naming the file") {
  TempDir tmp;
  write_png(tmp / "a.png", solid(40, 30, 10, 20, 30));
  std::string png = read_file(tmp / "a.png");
  CocoLoadOptions keep;
  keep.filter_empty = false;
  AugmentCfg aug;
  aug.min_sizes = {30};
  LoaderOptions lo;
  lo.batch_size = 1;
  lo.train = false;
  auto first_error = [&](const std::string& b_contents, int threads) {
    write_file(tmp / "b.png", b_contents);
    CocoDataset ds = load_coco_text(coco_json(kGood), "t.json", tmp.path, keep);
    lo.threads = threads;
    BatchLoader loader(ds, aug, lo);
    Batch b;
    REQUIRE(loader.next(b));  // a.png is fine
    return error_of([&] { loader.next(b); });
  };
  for (int threads : {0, 2}) {
    CAPTURE(threads);
    CHECK(first_error("", threads) == tmp / "b.png" + ": image file is empty (0 bytes)");
    CHECK(first_error(png.substr(0, png.size() / 2), threads) == tmp / "b.png" + ": truncated PNG (no IEND chunk)");
    CHECK(first_error("not an image at all", threads).rfind(tmp / "b.png" + ": cannot decode image (", 0) == 0);
  }
  std::filesystem::remove(tmp / "b.png");
  CocoDataset ds = load_coco_text(coco_json(kGood), "t.json", tmp.path, keep);
  BatchLoader loader(ds, aug, lo);
  Batch b;
  loader.next(b);
  CHECK(error_of([&] { loader.next(b); }).rfind(tmp / "b.png" + ": cannot open image (", 0) == 0);
  // Decoded size must agree with the json.
  write_png(tmp / "b.png", solid(41, 30, 0, 0, 0));
  BatchLoader loader2(ds, aug, lo);
  loader2.next(b);
  CHECK(error_of([&] { loader2.next(b); }) == tmp / "b.png" + ": image is 41x30 but t.json says 40x30 (image id 11)");
}

TEST_CASE("datafile: paths relative to the .data file, unknown keys rejected, names checked") {
  TempDir tmp;
  write_file(tmp / "d.data", "train_images=imgs\ntrain_json=ann/t.json\nnames=n.names\nclasses=3\n");
  DataFile df = read_datafile(tmp / "d.data");
  CHECK(df.train_images == tmp / "imgs");
  CHECK(df.train_json == tmp / "ann/t.json");
  CHECK(df.backup == tmp / "backup");
  CHECK(df.val_json.empty());
  CocoDataset ds = load_coco_text(coco_json(kGood), "t.json", "");
  write_file(tmp / "n.names", "three\nfive\nseven\n");
  check_categories(df, ds);
  write_file(tmp / "n.names", "three\nfive\neight\n");
  CHECK(error_of([&] { check_categories(df, ds); }).find("n.names: name 3 is 'eight' but category id 7 is named 'seven'") != std::string::npos);
  write_file(tmp / "e.data", "train_images=imgs\ntrain_json=t.json\ntrian=x\n");
  CHECK(error_of([&] { read_datafile(tmp / "e.data"); }).find("trian") != std::string::npos);
}
