"""Our own manifest rules: what neither the JSON schema nor checkov looks at.

The API server rejects a label value over 63 characters or a container port
name over 15, but the JSON schema does not encode either, so they would only
fail at ``kubectl apply``. A Service whose targetPort names no port of the pods
it selects applies cleanly and then routes nowhere. These rules catch all of
that at test time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .manifests import Manifest, containers, matches, pod_template, violation, workloads

LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# IANA_SVC_NAME: lowercase alphanumerics and '-', at least one letter, no '--', no '-' at either end.
PORT_NAME = re.compile(r"^(?=.*[a-z])(?!.*--)[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DIGEST_REF = re.compile(r"@sha256:[a-f0-9]{64}$")


def _label_maps(obj: Manifest) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every place labels or label selectors appear in one object."""
    yield "metadata.labels", obj.get("metadata", {}).get("labels") or {}
    template = pod_template(obj)
    if template is not None and template is not obj:
        yield "pod template labels", template.get("metadata", {}).get("labels") or {}
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    if isinstance(selector, dict):
        yield "spec.selector", selector.get("matchLabels", selector)
    if obj.get("kind") == "NetworkPolicy":
        yield "spec.podSelector", (spec.get("podSelector") or {}).get("matchLabels") or {}


def label_violations(env: str, objects: list[Manifest]) -> list[str]:
    out: list[str] = []
    for obj in objects:
        for where, labels in _label_maps(obj):
            for key, value in labels.items():
                if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
                    out.append(
                        violation(
                            env,
                            obj,
                            "label value",
                            f"{where} {key}={value!r} ({len(str(value))} chars) must be at most 63 "
                            "characters, alphanumeric at both ends, with only '-_.' inside",
                        )
                    )
                prefix, _, name = key.rpartition("/")
                if (
                    len(name) > 63
                    or not LABEL_NAME.match(name)
                    or (prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix)))
                ):
                    out.append(
                        violation(env, obj, "label key", f"{where} key {key!r} is not a valid label key")
                    )
    return out


def port_name_violations(env: str, objects: list[Manifest]) -> list[str]:
    out: list[str] = []

    def check(obj: Manifest, where: str, name: object) -> None:
        if name is None:
            return
        if not isinstance(name, str) or len(name) > 15 or not PORT_NAME.match(name):
            out.append(
                violation(
                    env,
                    obj,
                    "port name",
                    f"{where} {name!r} must be at most 15 lowercase letters, digits and '-' "
                    "with at least one letter (IANA_SVC_NAME)",
                )
            )

    for obj, spec in workloads(objects):
        for _, container in containers(spec):
            for port in container.get("ports") or []:
                check(obj, f"container {container['name']} port", port.get("name"))
    for svc in (o for o in objects if o["kind"] == "Service"):
        for port in svc["spec"].get("ports") or []:
            check(svc, "service port", port.get("name"))
    return out


def target_port_violations(env: str, objects: list[Manifest]) -> list[str]:
    """Every Service selects pods, and each targetPort exists on every pod it selects."""
    out: list[str] = []
    pods = [(obj, pod_template(obj) or {}) for obj, _ in workloads(objects)]
    for svc in (o for o in objects if o["kind"] == "Service"):
        selector = svc["spec"].get("selector")
        if not selector:
            continue  # a selector-less Service has hand-managed endpoints
        selected = [
            (obj, tpl)
            for obj, tpl in pods
            if matches({"matchLabels": selector}, tpl.get("metadata", {}).get("labels") or {})
        ]
        if not selected:
            out.append(violation(env, svc, "service selector", f"{selector} selects no pod template"))
            continue
        for port in svc["spec"].get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            for obj, tpl in selected:
                declared = [p for _, c in containers(tpl.get("spec", {})) for p in c.get("ports") or []]
                found = any(
                    p.get("name") == target if isinstance(target, str) else p.get("containerPort") == target
                    for p in declared
                )
                if not found:
                    out.append(
                        violation(
                            env,
                            svc,
                            "service targetPort",
                            f"port {port.get('name', port.get('port'))} targets {target!r}, "
                            f"which no container of {obj['kind']}/{obj['metadata']['name']} declares",
                        )
                    )
    return out


def resource_violations(env: str, objects: list[Manifest]) -> list[str]:
    out: list[str] = []
    for obj, spec in workloads(objects):
        for _, container in containers(spec):
            res = container.get("resources") or {}
            requests, limits = res.get("requests") or {}, res.get("limits") or {}
            missing = [f"requests.{r}" for r in ("cpu", "memory") if r not in requests]
            if "memory" not in limits:
                missing.append("limits.memory")
            if missing:
                out.append(
                    violation(
                        env,
                        obj,
                        "container resources",
                        f"container {container['name']} lacks {', '.join(missing)}",
                    )
                )
    return out


def image_violations(env: str, objects: list[Manifest]) -> list[str]:
    out: list[str] = []
    for obj, spec in workloads(objects):
        for _, container in containers(spec):
            image = str(container.get("image", ""))
            if DIGEST_REF.search(image):
                continue
            last = image.rsplit("/", 1)[-1]
            tag = last.split(":", 1)[1] if ":" in last else ""
            if not tag or tag == "latest":
                out.append(
                    violation(
                        env,
                        obj,
                        "image tag",
                        f"container {container['name']} image {image!r} must name a tag other than "
                        "'latest' or a digest",
                    )
                )
    return out


ALL_RULES = (
    label_violations,
    port_name_violations,
    target_port_violations,
    resource_violations,
    image_violations,
)


def all_violations(env: str, objects: list[Manifest]) -> list[str]:
    return [v for rule in ALL_RULES for v in rule(env, objects)]
