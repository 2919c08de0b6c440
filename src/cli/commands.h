// One function per subcommand; main.cpp holds the single table that names them.
// Each receives argv after the subcommand name and returns the process exit code.
#pragma once
#include <string>
#include <vector>

namespace mabdet {
class Comm;
struct DeviceChoice;
}
namespace mabdet::cli {
// The process's communicator (main.cpp makes it before any command runs).
Comm& world();
// -gpu N / -cpu as given after the command (main.cpp takes them out of the arguments).
const DeviceChoice& device_choice();
using Args = std::vector<std::string>;
// The process's peak resident memory (getrusage) and the peak of host tensor bytes since the
// last reset_host_tensor_peak(), in MB (peak_memory.cpp): what bench and detbench print.
double peak_rss_mb();
double peak_tensor_mb();
int classifier(const Args& a);
int bench(const Args& a);
int cocoeval(const Args& a);
int gendata(const Args& a);
int databench(const Args& a);
int train(const Args& a);   // the detector: cmd_detector.cpp
int detect(const Args& a);
int map(const Args& a);
int detbench(const Args& a);
int init(const Args& a);    // cmd_weights.cpp
int layout(const Args& a);
int dump(const Args& a);    // cmd_dump.cpp
int fold(const Args& a);    // cmd_fold.cpp
int commcheck(const Args& a);  // the communicator under mpirun: cmd_commcheck.cpp
}  // namespace mabdet::cli
