"""The namespace's worst case, summed from the topology's workloads.

A ResourceQuota that is smaller than what the autoscalers may ask for fails
silently at the worst moment: the HPA wants more pods during a traffic spike and
the API server refuses them. The peak is every workload at its maximum, plus
the extra pods a RollingUpdate surges. The quota is checked against it at synth
time, and a test recomputes it independently from the rendered objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .quantity import cpu_millis, memory_bytes
from .topology import SURGE_PERCENT, Topology


@dataclass(frozen=True)
class Peak:
    cpu_requests_millis: int
    memory_requests_bytes: int
    memory_limits_bytes: int
    pods: int
    storage_bytes: int


def namespace_peak(topology: Topology) -> Peak:
    cpu = mem_req = mem_lim = pods = storage = 0
    for w in topology.workloads:
        n = w.replicas + (math.ceil(w.replicas * SURGE_PERCENT / 100) if w.rolling else 0)
        cpu += (cpu_millis(w.resources.cpu_request) or 0) * n
        mem_req += (memory_bytes(w.resources.memory_request) or 0) * n
        mem_lim += (memory_bytes(w.resources.memory_limit) or 0) * n
        pods += n
        if w.storage is not None:
            storage += memory_bytes(w.storage) or 0
    return Peak(cpu, mem_req, mem_lim, pods, storage)
