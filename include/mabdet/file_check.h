// Paths a user names (cfg, .data, weights, json, images, lists) are checked before they are read:
// on Linux a directory opens like an empty file (and reports a size of 2^63), which turned into
// an all-defaults .data file or std::bad_alloc instead of a message naming the path.
#pragma once
#include <string>

namespace mabdet {
// Fails "PATH: is a directory, not WHAT" when path names a directory; anything else (a missing
// file included) is left to the caller's open, which reports it in its own words.
void require_file(const std::string& path, const char* what);
// The file name without folder and last extension ("cfg/x.cfg" -> "x"): what checkpoints, charts
// and logs of a cfg are named after.
std::string file_stem(const std::string& path);
}  // namespace mabdet
