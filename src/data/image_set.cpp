#include "mabdet/data/image_set.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "mabdet/data/datafile.h"
#include "mabdet/error.h"
#include "mabdet/file_check.h"

namespace fs = std::filesystem;

namespace mabdet {
namespace {
// What stb_image decodes (OpenCV decodes them all too).
const char* const kImageExtensions[] = {"jpg", "jpeg", "png", "bmp", "ppm", "pgm", "pnm", "tga", "gif"};

bool hidden(const std::string& name) { return name.empty() || name[0] == '.'; }

// Entries of `dir` that are (or link to) folders when `folders`, else files; sorted names.
std::vector<std::string> entries(const std::string& dir, bool folders) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) fail(dir, ": cannot read folder (", ec.message(), ")");
  std::vector<std::string> out;
  for (const fs::directory_entry& e : it) {
    std::string name = e.path().filename().string();
    if (hidden(name)) continue;
    bool is_dir = e.is_directory(ec);
    if (folders ? is_dir : (!is_dir && e.is_regular_file(ec))) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void require_folder(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) fail(dir, ": no such folder");
  if (!fs::is_directory(dir, ec)) fail(dir, ": not a folder");
}

bool parse_int(const std::string& s, long long& v) {
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size() || s.size() > 18) return false;
  for (size_t k = i; k < s.size(); ++k)
    if (!std::isdigit(static_cast<unsigned char>(s[k]))) return false;
  v = std::stoll(s);
  return true;
}
}  // namespace

std::string ImageSet::origin(size_t i) const {
  return lines.empty() ? paths[i] : cat(source, ":", lines[i]);
}

bool is_image_name(const std::string& name) {
  if (hidden(name)) return false;
  size_t dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot + 1);
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  for (const char* e : kImageExtensions)
    if (ext == e) return true;
  return false;
}

std::string image_extension_list() {
  std::string s;
  for (const char* e : kImageExtensions) s += cat(s.empty() ? "." : " .", e);
  return s;
}

std::vector<std::string> folder_images(const std::string& dir) {
  require_folder(dir);
  const std::string prefix = !dir.empty() && dir.back() == '/' ? dir : dir + "/";
  std::vector<std::string> out;
  for (const std::string& f : entries(dir, false))
    if (is_image_name(f)) out.push_back(prefix + f);
  return out;
}

std::vector<std::string> folder_classes(const std::string& dir) {
  require_folder(dir);
  std::vector<std::string> c = entries(dir, true);
  if (c.empty()) fail(dir, ": no class subfolders (the folder needs one subfolder of images per class)");
  return c;
}

ImageSet read_image_folder(const std::string& dir, const std::vector<std::string>& classes,
                           const std::string& classes_from) {
  std::vector<std::string> subs = folder_classes(dir);
  const std::vector<std::string>& order = classes.empty() ? subs : classes;
  for (const std::string& s : subs)
    if (std::find(order.begin(), order.end(), s) == order.end())
      fail(dir, ": subfolder '", s, "' is not one of the ", order.size(), " classes of the ", classes_from);
  ImageSet set;
  set.source = dir;
  for (size_t c = 0; c < order.size(); ++c) {
    const std::string sub = dir + "/" + order[c];
    if (!std::binary_search(subs.begin(), subs.end(), order[c]))
      fail(dir, ": no subfolder for class '", order[c], "' (class ", c, " of the ", classes_from, ")");
    std::vector<std::string> images = folder_images(sub);
    if (images.empty()) fail(sub, ": class folder holds no images (", image_extension_list(), ")");
    set.labels.insert(set.labels.end(), images.size(), int(c));
    set.paths.insert(set.paths.end(), images.begin(), images.end());
  }
  return set;
}

ImageSet read_image_list(const std::string& list, int classes, const std::vector<std::string>& names) {
  MABDET_ASSERT(classes > 0);
  require_file(list, "an image list");
  std::ifstream f(list);
  if (!f) fail(list, ": cannot open image list");
  ImageSet set;
  set.source = list;
  int n = 0;
  for (std::string line; std::getline(f, line);) {
    ++n;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    line = line.substr(start);
    size_t sep = line.find_last_of(" \t");
    if (sep == std::string::npos) fail(list, ":", n, ": expected 'path label', got '", line, "'");
    std::string label = line.substr(sep + 1), path = line.substr(0, sep);
    while (!path.empty() && (path.back() == ' ' || path.back() == '\t')) path.pop_back();
    long long v = -1;
    if (parse_int(label, v)) {
      if (v < 0 || v >= classes) fail(list, ":", n, ": label ", label, " out of range 0..", classes - 1);
    } else {
      auto it = std::find(names.begin(), names.end(), label);
      if (it == names.end())
        fail(list, ":", n, ": label '", label, "' is not an integer",
             names.empty() ? " (class names as labels need a names= file)" : " nor a class of the names file");
      v = it - names.begin();
    }
    path = resolve_beside(list, path);
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) fail(list, ":", n, ": no such image file '", path, "'");
    set.paths.push_back(path);
    set.labels.push_back(int(v));
    set.lines.push_back(n);
  }
  if (set.size() == 0) fail(list, ": lists no images");
  return set;
}

}  // namespace mabdet
