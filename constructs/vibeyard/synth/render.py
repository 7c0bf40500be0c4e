"""Manifests to files: one file per object, named so ``kubectl apply -R`` works.

cdk8s's own file-per-resource output names files ``Kind.name.k8s.yaml``, which
sorts a ConfigMap before its Namespace. We render from ``Chart.to_json()``
instead (one jsii round trip per chart) and prefix each file with its kind's
apply rank, so a plain recursive apply creates the Namespace, then policy, then
config, then workloads. The YAML is block-style with literal multi-line strings,
so dashboards and redis.conf stay readable in review.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

APPLY_RANK: Mapping[str, int] = {
    "Namespace": 0,
    "ResourceQuota": 1,
    "LimitRange": 1,
    "NetworkPolicy": 2,
    "ServiceAccount": 3,
    "Secret": 4,
    "SealedSecret": 4,
    "ExternalSecret": 4,
    "ConfigMap": 5,
    "TriggerAuthentication": 6,
    "Service": 7,
    "Job": 8,
    "StatefulSet": 9,
    "Deployment": 9,
    "HorizontalPodAutoscaler": 10,
    "ScaledObject": 10,
    "PodDisruptionBudget": 10,
    "VerticalPodAutoscaler": 10,
    "Ingress": 11,
    "ServiceMonitor": 12,
    "PrometheusRule": 12,
    "AppProject": 12,
    "Application": 13,
}
UNKNOWN_RANK = 50
_UNSAFE = re.compile(r"[^a-z0-9.-]+")

Manifest = dict[str, Any]
Tree = dict[str, str]


class _Dumper(yaml.CSafeDumper):
    """libyaml's emitter (4x faster than pure Python), block style, literal multi-line strings."""


def _str(dumper: yaml.CSafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def to_yaml(manifest: Manifest) -> str:
    text: str = yaml.dump(
        manifest, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=4096, allow_unicode=True
    )
    return text


def file_name(manifest: Manifest) -> str:
    kind = manifest["kind"]
    name = manifest["metadata"]["name"]
    rank = APPLY_RANK.get(kind, UNKNOWN_RANK)
    return f"{rank:02d}-{_UNSAFE.sub('-', kind.lower())}-{_UNSAFE.sub('-', name.lower())}.yaml"


def render(manifests: Iterable[Manifest]) -> Tree:
    tree: Tree = {}
    for manifest in manifests:
        name = file_name(manifest)
        if name in tree:
            raise ValueError(f"two objects would share the file {name}")
        tree[name] = to_yaml(manifest)
    return dict(sorted(tree.items()))
