// Classifier image sets: folder and list parsing (order, labels, skipped files, every error
// message), the image-set .data file, the resize/centre-crop input, and the sampler's order being a
// pure function of (seed, position).
#include <doctest/doctest.h>

#include <filesystem>
#include <set>

#include "data_fixture.h"
#include "mabdet/classifier.h"
#include "mabdet/data/crop.h"
#include "mabdet/data/image_set.h"

using namespace mabdet;
using namespace mabdet::testing;
using mabdet::test::error_of;

namespace {
// root/<class>/<file> for each "class/file" given, solid images coloured by class.
void make_folder(const std::string& root, const std::vector<std::string>& files) {
  for (const std::string& f : files) {
    std::filesystem::create_directories(std::filesystem::path(root + "/" + f).parent_path());
    if (is_image_name(f)) write_png(root + "/" + f, solid(6, 4, uint8_t(f[0] * 3), 10, 200));
    else write_file(root + "/" + f, "not an image");
  }
}
}  // namespace

TEST_CASE("image folder: sorted classes and files, names order, hidden and non-image files skipped") {
  TempDir t;
  make_folder(t / "tr", {"dog/b.png", "dog/a.PNG", "cat/z.png", "cat/notes.txt", "cat/.hidden.png", "ant/x.png"});
  std::filesystem::create_directories(t / "tr/.git");
  CHECK(folder_classes(t / "tr") == std::vector<std::string>{"ant", "cat", "dog"});
  ImageSet s = read_image_folder(t / "tr", {}, "");
  REQUIRE(s.size() == 4);
  CHECK(s.paths[0] == t / "tr/ant/x.png");
  CHECK(s.paths[2] == t / "tr/dog/a.PNG");  // byte order: 'a' < 'b'
  CHECK(s.labels == std::vector<int>{0, 1, 2, 2});
  CHECK(s.origin(1) == t / "tr/cat/z.png");
  ImageSet n = read_image_folder(t / "tr", {"dog", "ant", "cat"}, "names file n");
  CHECK(n.labels == std::vector<int>{0, 0, 1, 2});
  CHECK(n.paths[0] == t / "tr/dog/a.PNG");
}

TEST_CASE("image folder: errors name the folder") {
  TempDir t;
  CHECK(error_of([&] { folder_classes(t / "nope"); }) == t / "nope" + ": no such folder");
  write_file(t / "loose.png", "x");
  CHECK(error_of([&] { folder_classes(t / "loose.png"); }) == t / "loose.png" + ": not a folder");
  std::filesystem::create_directories(t / "flat");
  write_png(t / "flat/a.png", solid(2, 2, 1, 2, 3));
  CHECK(error_of([&] { read_image_folder(t / "flat", {}, ""); }) ==
        t / "flat" + ": no class subfolders (the folder needs one subfolder of images per class)");
  make_folder(t / "f", {"a/1.png", "b/readme.txt"});
  CHECK(error_of([&] { read_image_folder(t / "f", {}, ""); }) ==
        t / "f/b" + ": class folder holds no images (.jpg .jpeg .png .bmp .ppm .pgm .pnm .tga .gif)");
  make_folder(t / "g", {"a/1.png", "b/1.png"});
  CHECK(error_of([&] { read_image_folder(t / "g", {"a", "c", "b"}, "names file x.names"); }) ==
        t / "g" + ": no subfolder for class 'c' (class 1 of the names file x.names)");
  CHECK(error_of([&] { read_image_folder(t / "g", {"a"}, "training folder T"); }) ==
        t / "g" + ": subfolder 'b' is not one of the 1 classes of the training folder T");
}

TEST_CASE("image list: integer and name labels, spaces in paths, comments, paths beside the list") {
  TempDir t;
  make_folder(t.path, {"im/a.png", "im/b c.png"});
  write_file(t / "l.txt", "# path label\nim/a.png 1\n\n  im/b c.png\tcat  \n" + t / "im/a.png" + " 0\n");
  ImageSet s = read_image_list(t / "l.txt", 2, {"dog", "cat"});
  REQUIRE(s.size() == 3);
  CHECK(s.paths[0] == t / "im/a.png");
  CHECK(s.paths[1] == t / "im/b c.png");
  CHECK(s.labels == std::vector<int>{1, 1, 0});
  CHECK(s.lines == std::vector<int>{2, 4, 5});
  CHECK(s.origin(1) == t / "l.txt:4");
}

TEST_CASE("image list: errors name file and line") {
  TempDir t;
  make_folder(t.path, {"im/a.png"});
  auto err = [&](const std::string& text, const std::vector<std::string>& names) {
    write_file(t / "l.txt", "im/a.png 0\n" + text);
    return error_of([&] { read_image_list(t / "l.txt", 3, names); });
  };
  const std::string l2 = t / "l.txt:2: ";
  CHECK(err("im/a.png\n", {}) == l2 + "expected 'path label', got 'im/a.png'");
  CHECK(err("im/a.png 3\n", {}) == l2 + "label 3 out of range 0..2");
  CHECK(err("im/a.png -1\n", {}) == l2 + "label -1 out of range 0..2");
  CHECK(err("im/a.png cat\n", {}) == l2 + "label 'cat' is not an integer (class names as labels need a names= file)");
  CHECK(err("im/a.png emu\n", {"a", "b", "c"}) == l2 + "label 'emu' is not an integer nor a class of the names file");
  CHECK(err("im/b.png 1\n", {}) == l2 + "no such image file '" + t / "im/b.png" + "'");
  write_file(t / "e.txt", "# nothing\n\n");
  CHECK(error_of([&] { read_image_list(t / "e.txt", 3, {}); }) == t / "e.txt" + ": lists no images");
  CHECK(error_of([&] { read_image_list(t / "none.txt", 3, {}); }) == t / "none.txt" + ": cannot open image list");
}

TEST_CASE("image-set .data: kind, class list, relative paths and key errors") {
  TempDir t;
  make_folder(t / "d/train", {"b/1.png", "a/1.png", "a/2.png"});
  make_folder(t / "d/val", {"a/1.png", "b/1.png"});
  write_file(t / "d/v.txt", "val/a/1.png b\nval/b/1.png 0\n");
  write_file(t / "d/x.data", "train=train\nvalid_list=v.txt\nbackup=bk\nflip=0\n");
  ClassifierData d = read_classifier_data(t / "d/x.data");
  REQUIRE(!d.generated);
  CHECK(d.classes() == 2);
  CHECK(d.class_name(1) == "b");
  CHECK(d.backup() == t / "d/bk");
  CHECK(d.images.train.labels == std::vector<int>{0, 0, 1});
  CHECK(d.images.valid.labels == std::vector<int>{1, 0});
  CHECK(d.images.flip_prob == 0.f);
  CHECK(d.images.mean[0] == 123.675f);

  write_file(t / "d/s.data", "generator=shapes\nseed=3\n");
  CHECK(read_classifier_data(t / "d/s.data").generated);

  auto err = [&](const std::string& text) {
    write_file(t / "d/y.data", text);
    return error_of([&] { read_classifier_data(t / "d/y.data"); });
  };
  const std::string y = t / "d/y.data";
  CHECK(err("train=train\nvalid=val\nclasses=3\n") == y + ":3 classes=3: the training folder " + t / "d/train" + " has 2 class subfolders");
  CHECK(err("train=train\ntrain_list=v.txt\nvalid=val\n") ==
        y + ":2 train_list=v.txt: train= (a folder) and train_list= (a list file) both name the training images; keep one");
  CHECK(err("train=train\n") == y + ": names no validation images (valid=FOLDER or valid_list=FILE)");
  CHECK(err("train_list=v.txt\nvalid_list=v.txt\n") == y + ": list files with integer labels need classes= (or a names= file)");
  CHECK(err("train=train\nvalid=val\nmean=1,2\n") == y + ":3 mean=1,2: needs 3 values (R,G,B)");
  CHECK(err("train=train\nvalid=val\ngenerator=shapes\n") ==
        y + ":3 generator=shapes: a .data file names either generated data or image files (train=, valid=, ...), not both");
  CHECK(err("train=train\nvalid=val\ntrain_size=4\n").rfind(y + ":3 train_size=4: unknown or unused key (an image-set .data file)", 0) == 0);
  write_file(t / "d/n.names", "b\na\nc\n");
  CHECK(err("train=train\nvalid=val\nnames=n.names\n") ==
        t / "d/train" + ": no subfolder for class 'c' (class 2 of the names file " + t / "d/n.names" + ")");
  CHECK(err("train=train\nvalid=val\nnames=n.names\nclasses=2\n") ==
        y + ":4 classes=2: the names file " + t / "d/n.names" + " has 3 names");
}

TEST_CASE("resize_center_crop: solid colour normalizes, the crop is the centre, flip mirrors it") {
  const float mean[3] = {100, 50, 0}, sd[3] = {2, 1, 4};
  std::vector<float> out(3 * 4 * 3), scratch;
  resize_center_crop(solid(10, 7, 110, 50, 40), 4, 3, false, mean, sd, out.data(), scratch);
  for (int i = 0; i < 12; ++i) {
    CHECK(out[size_t(i)] == doctest::Approx(5.f));
    CHECK(out[size_t(12 + i)] == doctest::Approx(0.f));
    CHECK(out[size_t(24 + i)] == doctest::Approx(10.f));
  }
  // 11 x 3 already covers 3 x 3 (scale 1, no resampling): the crop is columns 4, 5, 6 exactly.
  Image ramp = solid(11, 3, 0, 0, 0);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 11; ++x) ramp.row(y)[3 * x] = uint8_t(10 * x);
  const float zero[3] = {0, 0, 0}, one[3] = {1, 1, 1};
  std::vector<float> a(27), b(27);
  resize_center_crop(ramp, 3, 3, false, zero, one, a.data(), scratch);
  resize_center_crop(ramp, 3, 3, true, zero, one, b.data(), scratch);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 3; ++x) {
      CHECK(a[size_t(y * 3 + x)] == doctest::Approx(10.f * (4 + x)));
      CHECK(b[size_t(y * 3 + x)] == a[size_t(y * 3 + 2 - x)]);
    }
}

TEST_CASE("image-set sampler: order is a function of (seed, position), each epoch a permutation") {
  TempDir t;
  std::vector<std::string> files;
  for (int i = 0; i < 5; ++i) files.push_back(std::string(i < 2 ? "a" : "b") + "/" + char('0' + i) + ".png");
  make_folder(t / "tr", files);
  write_file(t / "x.data", "train=tr\nvalid=tr\nseed=7\n");
  ClassifierData d = read_classifier_data(t / "x.data");
  NetConfig c;
  c.width = 4;
  c.height = 2;
  auto run = [&](int64_t first, int n) {
    std::unique_ptr<ClassSampler> s = make_sampler(d, c);
    Tensor im;
    IndexTensor lab;
    s->train_batch(first, n, im, lab);
    CHECK(im.shape().chw() == 3u * 2 * 4);
    return std::vector<float>(im.data(), im.data() + im.shape().size());
  };
  CHECK(run(0, 10) == run(0, 10));
  std::vector<float> all = run(0, 10), tail = run(7, 3);
  CHECK(std::vector<float>(all.end() - long(tail.size()), all.end()) == tail);  // resumable mid-epoch
  EpochOrder o(7, 5);
  for (int e = 0; e < 3; ++e) {
    std::set<int64_t> seen;
    for (int i = 0; i < 5; ++i) seen.insert(o.index(e * 5 + i));
    CHECK(seen.size() == 5u);
  }
  std::unique_ptr<ClassSampler> s = make_sampler(d, c);
  CHECK(s->valid_size() == 5);
  write_file(t / "tr/b/4.png", "garbage");
  Tensor im;
  IndexTensor lab;
  CHECK(error_of([&] { s->valid_batch(0, 5, im, lab); }).rfind(t / "tr/b/4.png: ", 0) == 0);
}
