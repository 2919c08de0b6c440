#include "mabdet/data/datafile.h"

#include <fstream>

#include "mabdet/cfg.h"
#include "mabdet/data/coco.h"
#include "mabdet/error.h"
#include "mabdet/file_check.h"

namespace mabdet {

std::string resolve_beside(const std::string& base_file, const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  size_t slash = base_file.rfind('/');
  return slash == std::string::npos ? p : base_file.substr(0, slash + 1) + p;
}

DataFile read_datafile(const std::string& path) {
  Section s = parse_kv(path);
  DataFile d;
  d.path = path;
  d.train_images = resolve_beside(path, s.get_str("train_images", ""));
  d.train_json = resolve_beside(path, s.get_str("train_json", ""));
  d.val_images = resolve_beside(path, s.get_str("val_images", ""));
  d.val_json = resolve_beside(path, s.get_str("val_json", ""));
  d.names = resolve_beside(path, s.get_str("names", ""));
  d.backup = resolve_beside(path, s.get_str("backup", "backup"));
  d.classes = s.get_int("classes", 0);
  d.filter_empty = s.get_bool("filter_empty", true);
  s.check_unused();
  if (d.train_json.empty() != d.train_images.empty())
    fail(path, ": train_images and train_json go together");
  if (d.val_json.empty() != d.val_images.empty()) fail(path, ": val_images and val_json go together");
  if (d.train_json.empty() && d.val_json.empty()) fail(path, ": names no dataset (train_json/val_json)");
  return d;
}

std::vector<std::string> read_names(const std::string& path) {
  require_file(path, "a names file");
  std::ifstream f(path);
  if (!f) fail(path, ": cannot open names file");
  std::vector<std::string> out;
  for (std::string line; std::getline(f, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

CocoDataset load_split(const DataFile& df, const std::string& split, bool masks) {
  if (split != "train" && split != "val") fail("split must be train or val, not '", split, "'");
  const bool train = split == "train";
  const std::string& json = train ? df.train_json : df.val_json;
  if (json.empty()) fail(df.path, ": no ", split, "_json");
  CocoLoadOptions opt;
  opt.filter_empty = train && df.filter_empty;
  opt.masks = masks;
  CocoDataset ds = load_coco(json, train ? df.train_images : df.val_images, opt);
  check_categories(df, ds);
  return ds;
}

void check_categories(const DataFile& df, const CocoDataset& ds) {
  if (df.classes && df.classes != ds.num_classes())
    fail(df.path, ": classes=", df.classes, " but ", ds.json_path, " has ", ds.num_classes(), " categories");
  if (df.names.empty()) return;
  std::vector<std::string> names = read_names(df.names);
  if (names.size() != ds.category_names.size())
    fail(df.names, ": ", names.size(), " names but ", ds.json_path, " has ", ds.num_classes(), " categories");
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] != ds.category_names[i])
      fail(df.names, ": name ", i + 1, " is '", names[i], "' but category id ", ds.category_ids[i], " is named '",
           ds.category_names[i], "'");
}

}  // namespace mabdet
