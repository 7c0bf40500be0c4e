"""Rendered objects changed on purpose, for the planted-defect tests: the environment's
Output with one object replaced, so a check can be shown red on exactly one change."""

from __future__ import annotations

import copy
import re

import yaml

from tests.support import Manifest, Output

from .procs import HarnessError


def synthetic(out: Output, *objects: Manifest, drop: tuple[str, ...] = ()) -> Output:
    """``out`` plus ``objects`` (replacing same kind/name), minus the named files."""
    keys = {(o["kind"], o["metadata"]["name"]) for o in objects}
    files = {}
    # ``out.objects`` are its files, parsed, in the same order.
    for (name, text), obj in zip(out.files.items(), out.objects, strict=True):
        if name not in drop and (obj["kind"], obj["metadata"]["name"]) not in keys:
            files[name] = text
    for obj in objects:  # named by the object: a second planting must not overwrite the first
        files[f"99-synthetic-{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"] = yaml.safe_dump(obj)
    return Output(out.cfg, files)


def with_ini_line(out: Output, line: str) -> Manifest:
    """The rendered pgbouncer-config ConfigMap with one more [pgbouncer] setting."""
    config = copy.deepcopy(out.get("ConfigMap", "pgbouncer-config"))
    config["data"]["pgbouncer.ini"] += line
    return config


def config_file(out: Output, workload: Manifest, filename: str) -> Manifest:
    """A copy of the ConfigMap that ``workload`` mounts and that holds ``filename``."""
    for volume in workload["spec"]["template"]["spec"].get("volumes", []):
        if "configMap" in volume:
            config = out.get("ConfigMap", volume["configMap"]["name"])
            if filename in config.get("data", {}):
                return copy.deepcopy(config)
    raise HarnessError(f"{workload['metadata']['name']}: mounts no ConfigMap holding {filename}")


def with_setting(out: Output, workload: Manifest, filename: str, line: str) -> Output:
    """``out`` with ``line`` ("key value" or "key = value") in ``workload``'s config file:
    the line setting that key replaced, or the line added at the end (the last section)."""
    config = config_file(out, workload, filename)
    key = re.split(r"[\s=]", line.strip(), maxsplit=1)[0]
    text: str = config["data"][filename]
    pattern = re.compile(rf"^{re.escape(key)}(?=[\s=]).*$", re.MULTILINE)
    config["data"][filename] = pattern.sub(line, text) if pattern.search(text) else text + line + "\n"
    return synthetic(out, config)
