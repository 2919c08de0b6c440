// What the benchmark commands print beside their times.
#include <sys/resource.h>

#include "cli/commands.h"
#include "mabdet/tensor.h"

namespace mabdet::cli {

double peak_rss_mb() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

double peak_tensor_mb() { return double(host_tensor_bytes().peak) / (1024.0 * 1024.0); }

}  // namespace mabdet::cli
