#include "mabdet/detect/image_args.h"

#include <filesystem>
#include <system_error>

#include "mabdet/data/image_set.h"
#include "mabdet/error.h"

namespace fs = std::filesystem;

namespace mabdet::detect {

std::vector<std::string> expand_image_args(const std::vector<std::string>& args) {
  if (args.empty()) fail("no images given (name image files or folders of images)");
  std::vector<std::string> out;
  for (const std::string& a : args) {
    if (a.empty()) fail("an empty argument is not an image file or folder");
    std::error_code ec;
    const fs::file_status st = fs::status(a, ec);
    if (!fs::exists(st)) fail(a, ": no such image file or folder");
    if (!fs::is_directory(st)) {
      out.push_back(a);
      continue;
    }
    std::vector<std::string> images = folder_images(a);
    if (images.empty()) fail(a, ": folder holds no images (", image_extension_list(), ")");
    out.insert(out.end(), images.begin(), images.end());
  }
  return out;
}

}  // namespace mabdet::detect
