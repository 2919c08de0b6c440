// mabdet CLI: dispatches to one subcommand; every user error ends as "mabdet: <message>", exit 1.
#include <cstdio>
#include <cstring>
#include <exception>

#include "cli/commands.h"
#include "mabdet/error.h"

namespace {
struct Command {
  const char* name;
  int (*run)(const mabdet::cli::Args&);
  const char* usage;
};

int version(const mabdet::cli::Args&) {
  std::printf("mabdet 0.1\n");
  return 0;
}

const Command kCommands[] = {
    {"train", mabdet::cli::train,
     "train CFG DATA [WEIGHTS] [--restart] [-map | --map-every N] [--save-every N] [--keep-every N] [--stop-after N] [--no-eval]"},
    {"detect", mabdet::cli::detect, "detect CFG WEIGHTS IMAGE|FOLDER... [-thresh T] [-out RESULTS.json] [-outdir DIR]"},
    {"map", mabdet::cli::map, "map CFG DATA WEIGHTS [--json RESULTS.json] [--batch N]"},
    {"classifier", mabdet::cli::classifier,
     "classifier train CFG DATA [WEIGHTS] [--stop-after N] [--save-every N] | classifier valid CFG DATA WEIGHTS\n"
     "         | classifier export CFG DATA OUT.bin [INIT_WEIGHTS] [--stop-after N]"},
    {"detbench", mabdet::cli::detbench, "detbench CFG [--train-size S] [--images N] [--test-size HxW] [--iters K]"},
    {"bench", mabdet::cli::bench, "bench CFG [--batch N] [--size S] [--iters K]"},
    {"cocoeval", mabdet::cli::cocoeval, "cocoeval GT.json RESULTS.json --iou bbox|segm [--json OUT.json]"},
    {"gendata", mabdet::cli::gendata, "gendata OUTDIR [--train N --val M --size S --seed K --height H]"},
    {"databench", mabdet::cli::databench, "databench DATAFILE [--split train|val --threads T --batch B --batches N --min-size S --max-size L --seed K]"},
    {"init", mabdet::cli::init, "init CFG OUT.weights"},
    {"layout", mabdet::cli::layout, "layout CFG"},
    {"dump", mabdet::cli::dump, "dump CFG WEIGHTS IMAGE OUTDIR [--layers NAME|INDEX,...] [-out RESULTS.json]"},
    {"fold", mabdet::cli::fold, "fold CFG WEIGHTS OUT.weights [OUT.cfg]"},
    {"version", version, "version"},
};

void usage() {
  std::fprintf(stderr, "usage: mabdet COMMAND ...\n");
  for (const Command& c : kCommands) std::fprintf(stderr, "  mabdet %s\n", c.usage);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    usage();
    return argc < 2 ? 1 : 0;
  }
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.name)) continue;
    try {
      return c.run(mabdet::cli::Args(argv + 2, argv + argc));
    } catch (const mabdet::Interrupted& e) {
      std::fprintf(stderr, "mabdet: %s\n", e.what());
      return 128 + e.signal;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "mabdet: %s\n", e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "mabdet: unknown command '%s'\n", argv[1]);
  usage();
  return 1;
}
