#include "mabdet/file_check.h"

#include <sys/stat.h>

#include "mabdet/error.h"

namespace mabdet {
void require_file(const std::string& path, const char* what) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) fail(path, ": is a directory, not ", what);
}
std::string file_stem(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const std::string b = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = b.find_last_of('.');
  return dot == std::string::npos ? b : b.substr(0, dot);
}

}  // namespace mabdet
