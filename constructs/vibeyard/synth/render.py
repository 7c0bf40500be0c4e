"""Manifests to files: one file per object, named so ``kubectl apply -R`` works.

cdk8s's own file-per-resource output names files ``Kind.name.k8s.yaml``, which sorts a
ConfigMap before its Namespace. We render from ``Chart.to_json()`` instead (one jsii round
trip per chart) and prefix each file with its kind's rank (``order.py``), so a plain
recursive apply creates the Namespace, then policy, then config, then workloads. The YAML is
block-style with literal multi-line strings, so dashboards and redis.conf stay readable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml

from ..order import rank

_UNSAFE = re.compile(r"[^a-z0-9.-]+")

Manifest = dict[str, Any]
Tree = dict[str, str]


class _Dumper(yaml.CSafeDumper):
    """libyaml's emitter, block style, literal multi-line strings."""


_Dumper.add_representer(
    str, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style="|" if "\n" in v else None)
)


def to_yaml(manifest: Manifest) -> str:
    options: dict[str, Any] = {"sort_keys": False, "default_flow_style": False, "width": 4096}
    return str(yaml.dump(manifest, Dumper=_Dumper, allow_unicode=True, **options))


def file_name(manifest: Manifest) -> str:
    kind, name = manifest["kind"], manifest["metadata"]["name"]
    return f"{rank(kind):02d}-{_UNSAFE.sub('-', kind.lower())}-{_UNSAFE.sub('-', name.lower())}.yaml"


def render(manifests: Iterable[Manifest]) -> Tree:
    tree: Tree = {}
    for manifest in manifests:
        name = file_name(manifest)
        if name in tree:
            raise ValueError(f"two objects would share the file {name}")
        tree[name] = to_yaml(manifest)
    return dict(sorted(tree.items()))
