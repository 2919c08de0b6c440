#include "mabdet/device_choice.h"

#include <cstdio>

namespace mabdet {
#ifndef MABDET_GPU
int cuda_device_count() { return 0; }
void cuda_set_device(int) { fail("this mabdet was built without GPU=1"); }
int cuda_current_device() { return -1; }
std::string cuda_device_label(int) { return "no GPU (built without GPU=1)"; }
void device_sync(Device) {}
#endif

Device pick_device(const DeviceChoice& c, bool host_default) {
  if (c.cpu && c.gpu >= 0) fail("-cpu and -gpu ", c.gpu, ": give one of them");
  const int n = cuda_device_count();
  if (c.gpu >= 0) {
#ifndef MABDET_GPU
    fail("-gpu ", c.gpu, ": this mabdet was built without GPU=1 (make GPU=1), so it runs on the CPU only");
#endif
    if (c.gpu >= n) fail("-gpu ", c.gpu, ": this machine has ", n, n == 1 ? " GPU" : " GPUs", n ? cat(" (0..", n - 1, ")") : "");
  }
  if (c.cpu || (c.gpu < 0 && (host_default || n == 0))) return Device::CPU;
  cuda_set_device(c.gpu >= 0 ? c.gpu : 0);
  return Device::CUDA;
}

std::string device_label(Device d) {
  if (d == Device::CPU) return "the CPU";
  const int i = cuda_current_device();
  return cat("GPU ", i, " (", cuda_device_label(i), ")");
}

}  // namespace mabdet
