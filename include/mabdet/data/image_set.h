// Labelled image files for classification: an ImageNet-style folder (one subfolder per class,
// images directly inside it) or a list file of `path label` lines. Only the listing happens here;
// images are decoded when used, so a large set starts at once.
#pragma once
#include <string>
#include <vector>

namespace mabdet {

struct ImageSet {
  std::string source;               // the folder or list file, for messages
  std::vector<std::string> paths;   // image files
  std::vector<int> labels;          // 0..classes-1
  std::vector<int> lines;           // list files: line of each entry; folders: empty
  size_t size() const { return paths.size(); }
  // Where entry i came from, for messages: "list:line" or the image path.
  std::string origin(size_t i) const;
};

// File names the folder reader takes as images (by extension, case-insensitive): what stb_image
// decodes. Other files (and names starting with '.') are skipped.
bool is_image_name(const std::string& name);
// Those extensions for messages: ".jpg .jpeg .png ...".
std::string image_extension_list();

// The image files (is_image_name) directly inside dir, as dir/name, sorted by name. Fails naming
// dir when it is missing or not a folder; an empty result is the caller's to judge.
std::vector<std::string> folder_images(const std::string& dir);

// A folder's class names: its subfolders (not starting with '.'), sorted by byte value.
std::vector<std::string> folder_classes(const std::string& dir);

// Every image of dir/<class>/, labelled by the position of <class> in `classes` (empty: take
// folder_classes(dir)); files sorted by name within each class, classes in label order. Fails,
// naming the folder, when it is missing, has no class subfolders, a class folder holds no images,
// a class has no subfolder, or a subfolder is not a class (`classes_from` says where the class
// list came from, e.g. "names file x.names").
ImageSet read_image_folder(const std::string& dir, const std::vector<std::string>& classes,
                           const std::string& classes_from);

// `path label` lines (the label after the last space or tab, so paths may hold spaces; blank lines
// and lines starting with '#' skipped). The label is an integer in [0, classes) or one of `names`.
// Relative paths resolve against the list file's folder. Fails naming file and line for a line
// without a label, a label out of range or unknown, or an image file that does not exist.
ImageSet read_image_list(const std::string& list, int classes, const std::vector<std::string>& names);

}  // namespace mabdet
