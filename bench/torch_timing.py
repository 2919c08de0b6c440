"""The timing both PyTorch sides of bench/core.sh share (bench/torch_net.py, bench/torch_fpn.py),
the way `mabdet bench` times: one untimed step (it sizes every buffer), then `iters` timed ones.
Prints "torch ms per forward+backward: X (threads T, torch V), peak RSS M MB".
"""
import resource
import time

import torch


def report_step_time(step, iters):
    step()
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    ms = (time.perf_counter() - t0) / iters * 1e3
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"torch ms per forward+backward: {ms:.2f} (threads {torch.get_num_threads()}, torch {torch.__version__}), "
          f"peak RSS {peak:.0f} MB")
