#include "mabdet/atomic_write.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "mabdet/error.h"
#include "mabdet/file_check.h"

namespace mabdet {

void write_atomically(const std::string& path, const std::function<void(const std::string& tmp)>& write) {
  require_file(path, "an output file");
  const std::string tmp = cat(path, ".tmp.", getpid());
  // Created here first so that a missing or read-only folder is reported with its reason; the
  // writers below (stb_image_write, streams) only say that they failed.
  std::FILE* probe = std::fopen(tmp.c_str(), "wb");
  if (!probe) fail(path, ": cannot create (", std::strerror(errno), ")");
  std::fclose(probe);
  try {
    write(tmp);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str())) {
    const int e = errno;
    std::remove(tmp.c_str());
    fail(path, ": cannot replace with the new file (", std::strerror(e), ")");
  }
}

}  // namespace mabdet
