// The pieces of a terminal progress line: a bar, a compact duration for the ETA, and whether
// stdout is a terminal at all (a log file gets plain lines, not '\r' redraws).
#pragma once
#include <cstdint>
#include <string>

namespace mabdet {

// "[#########.........]  45%": `width` characters between the brackets, '#' for the part done
// (rounded down, so a full bar means done == total), then the percentage, also rounded down.
// done is clamped to 0..total; total <= 0 (unknown) gives an empty bar and "  ?%"; width < 0 is 0.
std::string progress_bar(int64_t done, int64_t total, int width);

// Rounded to the second: "42s" under a minute, "3m07s" under an hour, then "1h02m".
// Negative, non-finite, or beyond 1e9 s (an ETA that means nothing) -> "?".
std::string format_duration(double seconds);

// Whether stdout is a terminal (isatty), so callers redraw a bar with '\r' only there.
bool stdout_is_terminal();

}  // namespace mabdet
