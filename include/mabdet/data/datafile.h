// A darknet-style `.data` file: key=value lines naming the dataset's files. Relative paths are
// resolved against the .data file's folder, so a generated dataset can be moved as a whole.
//   train_images=train2017/          train_json=annotations/instances_train2017.json
//   val_images=val2017/              val_json=annotations/instances_val2017.json
//   names=coco.names  backup=backup/  classes=80 (optional check)  filter_empty=1
#pragma once
#include <string>
#include <vector>

namespace mabdet {

struct CocoDataset;

struct DataFile {
  std::string path;
  std::string train_images, train_json, val_images, val_json;  // "" when absent
  std::string names, backup;
  int classes = 0;            // 0 = not given
  bool filter_empty = true;   // training images without annotations are dropped
};

DataFile read_datafile(const std::string& path);
std::vector<std::string> read_names(const std::string& path);  // one name per line, blank lines skipped
// `p` relative to the folder holding `base_file` (absolute and empty paths unchanged).
std::string resolve_beside(const std::string& base_file, const std::string& p);
// Loads split "train" or "val" of a .data file and checks its categories. filter_empty applies to
// training only: evaluation keeps every image, as COCO evaluation counts them all. The caller
// prints ds.report (messages, then summary()).
CocoDataset load_split(const DataFile& df, const std::string& split, bool masks);
// Fails, naming the files, when `classes` or the names file disagree with the json's categories.
void check_categories(const DataFile& df, const CocoDataset& ds);

}  // namespace mabdet
