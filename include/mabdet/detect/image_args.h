// The image arguments of `mabdet detect`: files and folders, as a user types them.
#pragma once
#include <string>
#include <vector>

namespace mabdet::detect {

// Each file stays as given (decoding judges it later); each folder becomes the image files
// directly inside it (data/image_set.h's extensions, any case, sorted by name, not recursive), in
// argument order. Fails naming the path for a missing path or a folder without images, and fails
// on an empty list.
std::vector<std::string> expand_image_args(const std::vector<std::string>& args);

}  // namespace mabdet::detect
