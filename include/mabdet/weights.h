// Weights/checkpoint files. Layout (little-endian):
//   "MABDETW\0" | u32 version | u32 flags (1: optimizer state follows) | i64 steps | i64 images_seen
//   | [version >= 2: u64 rng[4] | i64 data_epoch | i64 data_index] | u32 layers | per layer: str type, u32 entries, per entry: u8 kind ('P' param, 'S' state
//   tensor, 'C' counter), str name, then u64 count + float32[count] or i64
//   | [flags&1: u32 params, per param: u64 count + float32 velocity] | "END!"
// Per layer: the params it owns (a shared param is saved by its owner only), then its state.
// (str = u32 length + bytes.) Loading checks every layer type, name and size and names the first
// mismatch; saving writes a temporary file, fsyncs it and renames it over the target (atomic).
#pragma once
#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "mabdet/network.h"

namespace mabdet {

struct Progress {
  int64_t steps = 0;        // optimizer steps done (drives the lr schedule on resume)
  int64_t images_seen = 0;
  // What makes a resumed run bit-identical to an uninterrupted one: the Context's rng stream and
  // the data position (the next image is data_index of epoch data_epoch). Version 1 files lack
  // them (has_stream false).
  bool has_stream = false;
  uint64_t rng[4] = {};
  int64_t data_epoch = 0, data_index = 0;
};

// velocity: the optimizer's momentum buffers (one per net.params() entry), or null to omit them.
void save_weights(const std::string& path, Network& net, const Progress& p, const std::vector<Tensor>* velocity);
// Fills net's params and state; fills velocity if the file has it and velocity is non-null
// (resized to match); returns the progress recorded in the file.
Progress load_weights(const std::string& path, Network& net, std::vector<Tensor>* velocity);
// Removes the FILE.weights.tmp.PID (and NAME_chart.png.tmp.PID, NAME_best.txt.tmp.PID) files in
// `dir` that writes killed before their rename left behind: those whose PID is no running
// process, or that are older than `run_start` (an old PID now reused). Returns the paths removed. A save of another live run is never touched.
std::vector<std::string> remove_stale_temps(const std::string& dir, std::time_t run_start);

}  // namespace mabdet
