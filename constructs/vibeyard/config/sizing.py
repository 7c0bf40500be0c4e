"""The namespace's worst case, summed from the topology's workloads.

A ResourceQuota that is smaller than what the autoscalers may ask for fails
silently at the worst moment: the HPA wants more pods during a traffic spike and
the API server refuses them. The peak is every workload at its maximum, plus,
for a Deployment released at that maximum, the pods a RollingUpdate surges and
the old pods still running out their termination grace period (the quota counts
a terminating pod until it is gone, and a worker's grace covers its longest
job). The quota is checked against it at synth time, and a test recomputes it
independently from the rendered objects.
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


def peak_pods(replicas: int, rolling: bool) -> int:
    """Pods at once: for a rollout at ``replicas``, the new set, its surge and the old set terminating."""
    if not rolling:
        return replicas
    return replicas + math.ceil(replicas * SURGE_PERCENT / 100) + replicas


def namespace_peak(topology: Topology) -> Peak:
    cpu = mem_req = mem_lim = pods = storage = 0
    for w in topology.workloads:
        n = peak_pods(w.replicas, w.rolling)
        cpu += sum(cpu_millis(r.cpu_request) or 0 for r in w.resources) * n
        mem_req += sum(memory_bytes(r.memory_request) or 0 for r in w.resources) * n
        mem_lim += sum(memory_bytes(r.memory_limit) or 0 for r in w.resources) * n
        pods += n
        if w.storage is not None:
            storage += memory_bytes(w.storage) or 0
    return Peak(cpu, mem_req, mem_lim, pods, storage)
