// Reading a classifier .data file: which kind it is, and for image sets the class list every split
// is checked against.
#include <algorithm>

#include "mabdet/cfg.h"
#include "mabdet/classifier.h"
#include "mabdet/data/datafile.h"
#include "mabdet/error.h"
#include "mabdet/shapes.h"

namespace mabdet {
namespace {
const char* const kImageKeys[] = {"train", "train_list", "valid", "valid_list"};

void read_rgb(const Section& s, const std::string& key, float out[3], bool positive) {
  std::vector<float> v = s.get_floats(key, {out[0], out[1], out[2]});
  if (v.size() != 3) s.fail_key(key, "needs 3 values (R,G,B)");
  for (int i = 0; i < 3; ++i) {
    if (positive && !(v[size_t(i)] > 0)) s.fail_key(key, "values must be positive");
    out[i] = v[size_t(i)];
  }
}

// Exactly one of `folder_key` / `list_key`, resolved; `what` names the split in messages.
void pick_split(const Section& s, const std::string& path, const std::string& folder_key, const std::string& list_key,
                const char* what, std::string& folder, std::string& list) {
  folder = resolve_beside(path, s.get_str(folder_key, ""));
  list = resolve_beside(path, s.get_str(list_key, ""));
  if (!folder.empty() && !list.empty())
    s.fail_key(list_key, cat(folder_key, "= (a folder) and ", list_key, "= (a list file) both name the ", what,
                             " images; keep one"));
  if (folder.empty() && list.empty())
    fail(path, ": names no ", what, " images (", folder_key, "=FOLDER or ", list_key, "=FILE)");
}
}  // namespace

int read_save_every(const Section& s) {
  const int v = s.get_int("save_every", 1000);
  if (v < 1 || v > 1000000000) s.fail_key("save_every", "must be a step count in 1..1000000000");
  return v;
}

ImageSetData read_image_set_data(const std::string& path) {
  Section s = parse_kv(path);
  ImageSetData d;
  std::string train_dir, train_list, valid_dir, valid_list;
  pick_split(s, path, "train", "train_list", "training", train_dir, train_list);
  pick_split(s, path, "valid", "valid_list", "validation", valid_dir, valid_list);
  const std::string names_file = resolve_beside(path, s.get_str("names", ""));
  const int classes = s.get_int("classes", 0);
  if (s.has("classes") && classes < 1) s.fail_key("classes", "must be >= 1");
  d.seed = uint64_t(s.get_int("seed", 1));
  d.backup = resolve_beside(path, s.get_str("backup", d.backup));
  d.save_every = read_save_every(s);
  read_rgb(s, "mean", d.mean, false);
  read_rgb(s, "std", d.std, true);
  d.flip_prob = s.get_float("flip", d.flip_prob);
  if (!(d.flip_prob >= 0 && d.flip_prob <= 1)) s.fail_key("flip", "a probability in [0, 1]");
  s.check_unused("an image-set .data file");

  // The class list: the names file, else the training folder's subfolders, else the validation
  // folder's; lists with integer labels only need classes=.
  std::string from;
  if (!names_file.empty()) {
    d.names = read_names(names_file);
    if (d.names.empty()) fail(names_file, ": names file holds no names");
    for (size_t i = 0; i < d.names.size(); ++i)
      if (std::find(d.names.begin(), d.names.begin() + long(i), d.names[i]) != d.names.begin() + long(i))
        fail(names_file, ": name '", d.names[i], "' repeated");
    from = "names file " + names_file;
  } else if (!train_dir.empty() || !valid_dir.empty()) {
    const std::string& dir = train_dir.empty() ? valid_dir : train_dir;
    d.names = folder_classes(dir);
    from = (train_dir.empty() ? "validation folder " : "training folder ") + dir;
  }
  if (classes && !d.names.empty() && classes != int(d.names.size()))
    s.fail_key("classes", cat("the ", from, " has ", d.names.size(), names_file.empty() ? " class subfolders" : " names"));
  if (d.names.empty() && !classes) fail(path, ": list files with integer labels need classes= (or a names= file)");
  const std::vector<std::string> label_names = d.names;  // before numbering: names usable as list labels
  if (d.names.empty())
    for (int c = 0; c < classes; ++c) d.names.push_back(std::to_string(c));
  const int k = int(d.names.size());
  d.train = train_dir.empty() ? read_image_list(train_list, k, label_names) : read_image_folder(train_dir, d.names, from);
  d.valid = valid_dir.empty() ? read_image_list(valid_list, k, label_names) : read_image_folder(valid_dir, d.names, from);
  return d;
}

ClassifierData read_classifier_data(const std::string& path) {
  ClassifierData d;
  Section s = parse_kv(path);
  for (const char* k : kImageKeys) d.generated = d.generated && !s.has(k);
  if (d.generated) {
    d.shapes = read_shapes_data(path);
    return d;
  }
  if (s.has("generator")) s.fail_key("generator", "a .data file names either generated data or image files (train=, valid=, ...), not both");
  d.images = read_image_set_data(path);
  return d;
}

std::string ClassifierData::class_name(int c) const {
  return generated ? shape_class_name(c) : images.names[size_t(c)];
}

std::unique_ptr<ClassSampler> make_sampler(const ClassifierData& d, const NetConfig& c) {
  if (d.generated) return std::make_unique<ShapesSampler>(d.shapes, c.width);
  return std::make_unique<ImageSetSampler>(d.images, c.width, c.height);
}

}  // namespace mabdet
