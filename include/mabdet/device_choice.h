// Where a command computes: `-gpu N` (that GPU), `-cpu`, or by default the first GPU where this
// build has CUDA (GPU=1) and the machine has one, else the host. The choice is said on stderr.
#pragma once
#include <string>

#include "mabdet/tensor.h"

namespace mabdet {

struct DeviceChoice {
  int gpu = -1;      // -gpu N (>= 0), else -1
  bool cpu = false;  // -cpu
};

// The device for this choice, with that GPU made current (cudaSetDevice). host_default: the job
// runs on the host unless -gpu names a GPU (a job with layers that run on the host only, so
// far). Fails, naming the flag, for a GPU this build or machine does not have.
Device pick_device(const DeviceChoice& c, bool host_default = false);
// "the CPU" or "GPU 0 (NVIDIA H200, 143771 MiB, sm_90)".
std::string device_label(Device d);

// Waits for the device's queued work (timings); a no-op on the host.
void device_sync(Device d);
// GPUs visible to this process (0 without GPU=1), the current one's index, and a GPU's label.
int cuda_device_count();
void cuda_set_device(int i);
int cuda_current_device();
std::string cuda_device_label(int i);

}  // namespace mabdet
