"""Our own rules and Pod Security "restricted", on every environment.

Each check returns one line per problem naming the environment, the object and
the rule; the planted-defect tests mutate a deep copy of the synthesized
output and show that the right rule fires.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.support import Output
from tests.validators import pod_security, rules
from tests.validators.manifests import containers, workloads
from vibeyard.config.types import Image


def _ok(problems: list[str]) -> None:
    assert not problems, "\n".join(problems)


def test_label_values_and_keys(every: Output) -> None:
    _ok(rules.label_violations(every.cfg.name, every.objects))


def test_port_names(every: Output) -> None:
    _ok(rules.port_name_violations(every.cfg.name, every.objects))


def test_service_target_ports_exist_on_selected_pods(every: Output) -> None:
    _ok(rules.target_port_violations(every.cfg.name, every.objects))


def test_containers_have_requests_and_memory_limit(every: Output) -> None:
    _ok(rules.resource_violations(every.cfg.name, every.objects))


def test_images_are_tagged_or_pinned(every: Output) -> None:
    _ok(rules.image_violations(every.cfg.name, every.objects))


def test_pods_meet_pod_security_restricted(every: Output) -> None:
    _ok(pod_security.restricted_violations(every.cfg.name, every.objects))


def test_namespace_enforces_restricted(every: Output) -> None:
    _ok(pod_security.namespace_violations(every.cfg.name, every.objects))


def test_each_workload_has_its_own_service_account_without_token(every: Output) -> None:
    _ok(pod_security.service_account_violations(every.cfg.name, every.objects))


def test_third_party_images_are_pinned_by_digest_in_config(out: Output) -> None:
    cfg = out.cfg
    third_party: list[tuple[str, Image]] = [
        ("postgres", cfg.postgres.image),
        ("redis", cfg.redis.image),
        ("pgbouncer", cfg.pgbouncer.image),
    ]
    for name, image in third_party:
        assert image.digest, f"{cfg.name}: config {name}.image: third-party images must be pinned by digest"
    rendered = {c["image"] for _, spec in workloads(out.objects) for _, c in containers(spec)}
    for name, image in third_party:
        for ref in (r for r in rendered if r.split("@")[0].split(":")[0] == image.repository):
            assert ref.endswith(f"@{image.digest}"), (
                f"{cfg.name}: {name}: image {ref} must be referenced by its digest {image.digest}"
            )


# --- planted defects ---------------------------------------------------------------


@pytest.fixture
def prod_copy(outputs: dict[str, Output]) -> list[dict[str, Any]]:
    return copy.deepcopy(outputs["prod"].objects)


def _web(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "vibeyard")


def test_planted_container_without_limits_is_caught(prod_copy: list[dict[str, Any]]) -> None:
    del _web(prod_copy)["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    problems = rules.resource_violations("prod", prod_copy)
    assert problems == [
        "prod: Deployment/vibeyard: container resources: container vibeyard lacks limits.memory"
    ], problems


def test_planted_70_character_label_is_caught(prod_copy: list[dict[str, Any]]) -> None:
    long_value = "x" * 70
    _web(prod_copy)["metadata"]["labels"]["app.kubernetes.io/version"] = long_value
    problems = rules.label_violations("prod", prod_copy)
    assert len(problems) == 1 and problems[0].startswith(
        "prod: Deployment/vibeyard: label value: "
        f"metadata.labels app.kubernetes.io/version='{long_value}' (70 chars)"
    ), problems


def test_planted_bad_port_name_and_dangling_target_port_are_caught(prod_copy: list[dict[str, Any]]) -> None:
    web = _web(prod_copy)
    web["spec"]["template"]["spec"]["containers"][0]["ports"][0]["name"] = "http-with-a-long-name"
    problems = rules.port_name_violations("prod", prod_copy) + rules.target_port_violations("prod", prod_copy)
    assert any(
        p.startswith("prod: Deployment/vibeyard: port name: container vibeyard port") for p in problems
    )
    assert any(
        p.startswith("prod: Service/vibeyard: service targetPort: port http targets 'http'") for p in problems
    )


def test_planted_latest_image_is_caught(prod_copy: list[dict[str, Any]]) -> None:
    _web(prod_copy)["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/your-org/vibeyard:latest"
    problems = rules.image_violations("prod", prod_copy)
    assert len(problems) == 1 and problems[0].startswith("prod: Deployment/vibeyard: image tag:"), problems


def test_planted_root_container_is_caught(prod_copy: list[dict[str, Any]]) -> None:
    pod = _web(prod_copy)["spec"]["template"]["spec"]
    pod["securityContext"]["runAsUser"] = 0
    pod["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    pod["volumes"].append({"name": "host", "hostPath": {"path": "/"}})
    problems = pod_security.restricted_violations("prod", prod_copy)
    rules_hit = {": ".join(p.split(": ")[2:4]) for p in problems}
    assert rules_hit == {
        "pod security: runAsUser",
        "pod security: privilege escalation",
        "pod security: volume types",
    }, problems
