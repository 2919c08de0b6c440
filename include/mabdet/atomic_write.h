// Output files that appear whole or not at all: a reader (a viewer, a second run, an evaluation
// script) never sees a half-written image or json, and a failed write leaves no partial file.
#pragma once
#include <functional>
#include <string>

namespace mabdet {

// Calls write(tmp) to fill PATH.tmp.PID, then renames it over path. Fails naming path when the
// temporary cannot be created (missing or read-only folder) or renamed; removes it when write
// throws. Not fsynced: these are results, not checkpoints (weights.cpp syncs its own).
void write_atomically(const std::string& path, const std::function<void(const std::string& tmp)>& write);

}  // namespace mabdet
