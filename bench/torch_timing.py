"""The timing both PyTorch sides of bench/core.sh share (bench/torch_net.py, bench/torch_fpn.py),
the way `mabdet bench` times: one untimed step (it sizes every buffer), then `iters` timed ones.
Prints "torch ms per forward+backward: X (threads T, torch V), peak RSS M MB" (on a GPU also
", GPU tensors G MB": torch.cuda.max_memory_allocated over the timed steps).
"""
import resource
import time

import torch


def report_step_time(step, iters, device="cpu"):
    """device "cuda": each step is waited for, and the peak of allocated GPU memory is printed too."""
    cuda = device == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    step()
    sync()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    sync()
    ms = (time.perf_counter() - t0) / iters * 1e3
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    gpu = f", GPU tensors {torch.cuda.max_memory_allocated() / 2**20:.0f} MB" if cuda else ""
    print(f"torch ms per forward+backward: {ms:.2f} (threads {torch.get_num_threads()}, torch {torch.__version__}), "
          f"peak RSS {peak:.0f} MB{gpu}")
