// Terminal progress line pieces (see include/mabdet/progress.h).
#include "mabdet/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace mabdet {

std::string progress_bar(int64_t done, int64_t total, int width) {
  if (width < 0) width = 0;
  const bool known = total > 0;
  if (done < 0) done = 0;
  if (known && done > total) done = total;
  // The products are taken in long double so that a huge total cannot overflow int64.
  const int filled = known ? int((long double)done * width / total) : 0;
  std::string s = "[" + std::string(size_t(filled), '#') + std::string(size_t(width - filled), '.') + "] ";
  char pct[8];
  if (known) std::snprintf(pct, sizeof pct, "%3d%%", int((long double)done * 100 / total));
  else std::snprintf(pct, sizeof pct, "  ?%%");
  return s + pct;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e9) return "?";
  const long long s = std::llround(seconds);
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%llds", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s % 3600 / 60);
  return buf;
}

bool stdout_is_terminal() { return isatty(STDOUT_FILENO) == 1; }

}  // namespace mabdet
