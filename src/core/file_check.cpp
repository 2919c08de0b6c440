#include "mabdet/file_check.h"

#include <sys/stat.h>

#include "mabdet/error.h"

namespace mabdet {
void require_file(const std::string& path, const char* what) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) fail(path, ": is a directory, not ", what);
}
}  // namespace mabdet
