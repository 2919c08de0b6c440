// The terminal progress line: exact bar and duration strings, and isatty seen through stdout.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "mabdet/progress.h"

using namespace mabdet;

TEST_CASE("progress: bar strings") {
  CHECK(progress_bar(45, 100, 20) == "[#########...........]  45%");
  CHECK(progress_bar(0, 10, 5) == "[.....]   0%");
  CHECK(progress_bar(10, 10, 5) == "[#####] 100%");
  CHECK(progress_bar(99, 100, 10) == "[#########.]  99%");  // rounded down: full only when done
  CHECK(progress_bar(15, 10, 4) == "[####] 100%");
  CHECK(progress_bar(-3, 10, 4) == "[....]   0%");
  CHECK(progress_bar(5, 0, 3) == "[...]   ?%");
  CHECK(progress_bar(1, 3, 0) == "[]  33%");
  CHECK(progress_bar(1, 3, -2) == "[]  33%");
  CHECK(progress_bar(4000000000000000000, 8000000000000000000, 10) == "[#####.....]  50%");  // no overflow
}

TEST_CASE("progress: duration strings") {
  CHECK(format_duration(0) == "0s");
  CHECK(format_duration(42) == "42s");
  CHECK(format_duration(59.4) == "59s");
  CHECK(format_duration(59.6) == "1m00s");
  CHECK(format_duration(187) == "3m07s");
  CHECK(format_duration(3599.4) == "59m59s");
  CHECK(format_duration(3720) == "1h02m");
  CHECK(format_duration(100 * 3600 + 59) == "100h00m");
  CHECK(format_duration(-1) == "?");
  CHECK(format_duration(std::numeric_limits<double>::quiet_NaN()) == "?");
  CHECK(format_duration(std::numeric_limits<double>::infinity()) == "?");
  CHECK(format_duration(2e9) == "?");
}

namespace {
// Runs f with stdout's descriptor pointing at fd, then puts stdout back.
template <class F>
void with_stdout(int fd, F f) {
  std::fflush(stdout);
  const int saved = dup(STDOUT_FILENO);
  REQUIRE(saved >= 0);
  REQUIRE(dup2(fd, STDOUT_FILENO) >= 0);
  f();
  std::fflush(stdout);
  dup2(saved, STDOUT_FILENO);
  close(saved);
}
}  // namespace

TEST_CASE("progress: stdout_is_terminal follows what stdout is") {
  const int null = open("/dev/null", O_WRONLY);
  REQUIRE(null >= 0);
  bool on_null = true;
  with_stdout(null, [&] { on_null = stdout_is_terminal(); });
  close(null);
  CHECK_FALSE(on_null);

  // A pseudo-terminal stands in for a real one.
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) || unlockpt(master)) {
    MESSAGE("no pseudo-terminals here; the terminal side is not checked");
    if (master >= 0) close(master);
    return;
  }
  const int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
  REQUIRE(slave >= 0);
  bool on_tty = false;
  with_stdout(slave, [&] { on_tty = stdout_is_terminal(); });
  close(slave);
  close(master);
  CHECK(on_tty);
}
