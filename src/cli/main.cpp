// mabdet CLI: dispatches to one subcommand; every user error ends as "mabdet: <message>", exit 1.
// Under mpirun (MPI builds) a rank that fails prints "mabdet: rank R/N: <message>" and aborts
// every rank: the others may be waiting for it in a collective and would never return.
#include <cstdio>
#include <cstring>
#include <exception>
#include <cstdlib>
#include <memory>
#include <vector>

#include "cli/commands.h"
#include "mabdet/comm.h"
#include "mabdet/device_choice.h"
#include "mabdet/error.h"
#include "mabdet/threads.h"

namespace mabdet::cli {
namespace {
std::unique_ptr<Comm> g_world;
DeviceChoice g_device;
}
Comm& world() { return *g_world; }
const DeviceChoice& device_choice() { return g_device; }
}  // namespace mabdet::cli

namespace {
struct Command {
  const char* name;
  int (*run)(const mabdet::cli::Args&);
  const char* usage;
  bool data_parallel = false;  // runs as N ranks under mpirun (the training commands)
  bool device = false;         // computes on -gpu N / -cpu (the others run on the host)
};

int version(const mabdet::cli::Args&) {
  std::printf("mabdet 0.1\n");
  return 0;
}

const Command kCommands[] = {
    {"train", mabdet::cli::train,
     "train CFG DATA [WEIGHTS] [--restart] [-map | --map-every N] [--save-every N] [--keep-every N] [--stop-after N] [--no-eval]",
     true},
    {"detect", mabdet::cli::detect, "detect CFG WEIGHTS IMAGE|FOLDER... [-thresh T] [-out RESULTS.json] [-outdir DIR]"},
    {"map", mabdet::cli::map, "map CFG DATA WEIGHTS [--json RESULTS.json] [--batch N]"},
    {"classifier", mabdet::cli::classifier,
     "classifier train CFG DATA [WEIGHTS] [--stop-after N] [--save-every N] [--log-every N] | classifier valid CFG DATA WEIGHTS\n"
     "         | classifier export CFG DATA OUT.bin [INIT_WEIGHTS] [--stop-after N]",
     true, true},
    {"detbench", mabdet::cli::detbench, "detbench CFG [--train-size S] [--images N] [--test-size HxW] [--iters K]"},
    {"bench", mabdet::cli::bench, "bench CFG [--batch N] [--size S] [--iters K] [--sum NAME,...] [--inference]", false, true},
    {"cocoeval", mabdet::cli::cocoeval, "cocoeval GT.json RESULTS.json --iou bbox|segm [--json OUT.json]"},
    {"gendata", mabdet::cli::gendata, "gendata OUTDIR [--train N --val M --size S --seed K --height H]"},
    {"databench", mabdet::cli::databench, "databench DATAFILE [--split train|val --threads T --batch B --batches N --min-size S --max-size L --seed K]"},
    {"init", mabdet::cli::init, "init CFG OUT.weights"},
    {"layout", mabdet::cli::layout, "layout CFG"},
    {"dump", mabdet::cli::dump, "dump CFG WEIGHTS IMAGE OUTDIR [--layers NAME|INDEX,...] [-out RESULTS.json]"},
    {"fold", mabdet::cli::fold, "fold CFG WEIGHTS OUT.weights [OUT.cfg]"},
    {"commcheck", mabdet::cli::commcheck, "commcheck [--floats N]   (under mpirun: checks MPI / NCCL sums)", true},
    {"version", version, "version"},
};

void usage() {
  std::fprintf(stderr, "usage: mabdet COMMAND ... [-threads N]   (classifier and bench also take -gpu N | -cpu)\n");
  for (const Command& c : kCommands) std::fprintf(stderr, "  mabdet %s\n", c.usage);
}

// `-threads N` anywhere after the command: the compute threads of the whole process (one OpenMP
// pool for mabdet's loops, oneDNN and OpenBLAS); without it OMP_NUM_THREADS, else every core.
// Taken out of the arguments so that no command sees it.
int take_threads_flag(std::vector<char*>& args) {
  int n = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    if (std::strcmp(args[i], "-threads") != 0) continue;
    if (i + 1 == args.size()) mabdet::fail("-threads needs a count (a positive integer)");
    char* end = nullptr;
    const long v = std::strtol(args[i + 1], &end, 10);
    if (!*args[i + 1] || *end || v < 1 || v > 4096)
      mabdet::fail("-threads: expected a thread count in 1..4096, got '", args[i + 1], "'");
    n = int(v);
    args.erase(args.begin() + long(i), args.begin() + long(i) + 2);
    --i;
  }
  return n;
}

// `-gpu N` and `-cpu` anywhere after the command, taken out like -threads. Only commands that
// compute on a device take them; the others say so rather than ignore them.
mabdet::DeviceChoice take_device_flags(std::vector<char*>& args, const Command& c) {
  mabdet::DeviceChoice choice;
  for (size_t i = 0; i < args.size(); ++i) {
    const bool gpu = !std::strcmp(args[i], "-gpu"), cpu = !std::strcmp(args[i], "-cpu");
    if (!gpu && !cpu) continue;
    if (!c.device) mabdet::fail("'", c.name, "' runs on the host; ", args[i], " does not apply to it");
    size_t n = 1;
    if (cpu) {
      choice.cpu = true;
    } else {
      if (i + 1 == args.size()) mabdet::fail("-gpu needs a GPU index (0, 1, ...)");
      char* end = nullptr;
      const long v = std::strtol(args[i + 1], &end, 10);
      if (!*args[i + 1] || *end || v < 0 || v > 1023) mabdet::fail("-gpu: expected a GPU index in 0..1023, got '", args[i + 1], "'");
      choice.gpu = int(v);
      n = 2;
    }
    args.erase(args.begin() + long(i), args.begin() + long(i + n));
    --i;
  }
  return choice;
}
}  // namespace

// Prints the failure; with several ranks names the rank and ends them all with `code`.
int failed(const char* what, int code) {
  mabdet::Comm& w = mabdet::cli::world();
  if (w.size() == 1) {
    std::fprintf(stderr, "mabdet: %s\n", what);
    return code;
  }
  std::fprintf(stderr, "mabdet: rank %d/%d: %s\n", w.rank(), w.size(), what);
  w.abort(code);
  return code;  // not reached (g++ does not take [[noreturn]] through a virtual call)
}

int run(const Command& c, int argc, char** argv) {
  try {
    mabdet::cli::g_world = mabdet::make_world_comm(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mabdet: %s\n", e.what());
    return 1;
  }
  try {
    if (mabdet::cli::world().size() > 1 && !c.data_parallel)
      mabdet::fail("'", c.name, "' runs in one process; start it without mpirun (only train and classifier train",
                   " run data-parallel)");
    std::vector<char*> args(argv + 2, argv + argc);
    mabdet::set_compute_threads(take_threads_flag(args));
    mabdet::cli::g_device = take_device_flags(args, c);
    return c.run(mabdet::cli::Args(args.begin(), args.end()));
  } catch (const mabdet::Interrupted& e) {
    // Every rank stopped at the same step (the trainer agrees on it), saved by rank 0.
    if (mabdet::cli::world().rank() == 0) std::fprintf(stderr, "mabdet: %s\n", e.what());
    return 128 + e.signal;
  } catch (const std::exception& e) {
    return failed(e.what(), 1);
  }
}

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    usage();
    return argc < 2 ? 1 : 0;
  }
  for (const Command& c : kCommands)
    if (!std::strcmp(argv[1], c.name)) return run(c, argc, argv);
  std::fprintf(stderr, "mabdet: unknown command '%s'\n", argv[1]);
  usage();
  return 1;
}
