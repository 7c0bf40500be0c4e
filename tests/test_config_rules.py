"""Every config rule, by example: each bad value is refused with its exact line, by its own rule.

Each row of ``CASES`` is one mistake as an overlay on a committed environment
(``load(env, overlay)``: what a line in ``environments/<env>.py`` would do), the
exact lines it must give and the id of the rule that must give them. The rules
are collected from the code: every ``setting(rule=...)`` of every class reachable
from ``EnvConfig``, every ``@check``, ``ENV_CHECKS`` and ``TOGETHER_CHECKS``. A
rule without a failing row fails ``test_every_rule_has_a_failing_case``; deleting
a rule turns its rows red. A row's ``ok`` is the nearest value that is allowed:
the edge of the rule, which must load.

The expected lines are written out here, never derived from the rules, so a rule
that changes what it accepts or says is a visible edit of this table.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

import vibeyard.config
from tests.config_walk import at, config_classes
from vibeyard.config import ConfigError, EnvConfig, load, load_all, names
from vibeyard.config.fields import checks_of
from vibeyard.config.validate import ENV_CHECKS, TOGETHER_CHECKS

Overlay = Mapping[str, Any]

INT = "an integer up to 2147483647 (int32)"
PORT = "an integer from 1 to 65535"
PERCENT = "an integer from 1 to 100"
CPU = "millicores like '250m' or cores like '1' or '0.5'"
MEM = "bytes with a suffix Ki, Mi, Gi, Ti (or k, M, G, T), like '512Mi'"
SUBDOMAIN = "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253 characters"
HOST = "a fully qualified DNS name in lowercase, like 'vibeyard.example.com'"
DURATION = "a duration like '30s', '15m' or '1h'"
PATH = "a path starting with '/'"
CIDR = "an IPv4 or IPv6 network in CIDR form, like '10.0.0.0/8'"
FRACTION = "a fraction between 0 and 1"
LABEL_VALUE = "a label value: at most 63 characters, alphanumeric at both ends, '-_.' inside"
TAG = "an image tag of [A-Za-z0-9_.-], alphanumeric at both ends, at most 63 characters, never 'latest'"
REPOSITORY = "an image repository like 'ghcr.io/org/name' (lowercase, no tag)"
DIGEST = "'sha256:' followed by 64 lowercase hex digits"
SQL = "a lowercase PostgreSQL name of letters, digits and '_'"
EXEC = "a non-empty exec-form command"
ENV_NAMES = "variable names of letters, digits and '_' that the chart does not set itself"
MANAGED_EGRESS = "at least one CIDR and port for the managed database when postgres.mode is 'managed'"
PEAK = "the peak of every workload at its maximum during a rollout"
GOOD_DIGEST = "sha256:" + "0123456789abcdef" * 4


def dns_label(most: int) -> str:
    return f"a DNS-1123 label: lowercase letters, digits and '-', at most {most} characters"


def label_key(key: str) -> str:
    return f"label keys like 'app.kubernetes.io/name' ({key!r} is not)"


def label_value(value: str) -> str:
    return f"label values of at most 63 characters, alphanumeric at both ends ({value!r} is not)"


def between(low: int, high: int | None = None) -> str:
    return f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"


def pool(**fields: Any) -> dict[str, Any]:
    """The overlay whose only worker pool is a ``default`` pool with ``fields``."""
    return {"workers": [{"name": "default", "queues": ["default"], **fields}]}


# An environment's whole workload shape, so the quota it needs can be added up by hand
# (the sizing rule in config/sizing.py's docstring; 25% surge), whatever the environment:
#   web        2 fixed replicas, rolling: 2 + 1 surge + 2 terminating = 5 pods x 100m/100Mi/200Mi
#   worker     at most 4, rolling: 4 + 1 + 4                           = 9 pods x  50m/ 64Mi/128Mi
#   postgres   1 pod, 200m/256Mi/512Mi, 10Gi volume
#   redis      1 pod, 100m/128Mi/256Mi,  2Gi volume
#   cache      1 replica, rolling: 1 + 1 + 1                           = 3 pods x  20m/ 32Mi/ 64Mi
#   migration  1 pod with the web tier's resources                     = 1 pod  x 100m/100Mi/200Mi
# Sum: 1410m CPU, 1656Mi requested, 3312Mi limit, 20 pods, 12288Mi storage in 2 volumes.
SHAPE: dict[str, Any] = {
    "web": {
        "replicas": 2,
        "autoscaling": {"enabled": False, "min_replicas": 1, "max_replicas": 1},
        "resources": {"cpu_request": "100m", "memory_request": "100Mi", "memory_limit": "200Mi"},
    },
    **pool(
        replicas=1,
        min_replicas=1,
        max_replicas=4,
        resources={"cpu_request": "50m", "memory_request": "64Mi", "memory_limit": "128Mi"},
    ),
    "postgres": {
        "mode": "in-cluster",
        "storage_size": "10Gi",
        "resources": {"cpu_request": "200m", "memory_request": "256Mi", "memory_limit": "512Mi"},
    },
    "pgbouncer": {"enabled": False},
    "redis": {
        "mode": "in-cluster",
        "storage_size": "2Gi",
        "resources": {"cpu_request": "100m", "memory_request": "128Mi", "memory_limit": "256Mi"},
    },
    "cache": {"resources": {"cpu_request": "20m", "memory_request": "32Mi", "memory_limit": "64Mi"}},
    "keda": {"enabled": False},
    "monitoring": {"enabled": False},
    "migration": {"enabled": True},
}
SHAPE_QUOTA = {
    "cpu_requests": "1410m",
    "memory_requests": "1656Mi",
    "memory_limits": "3312Mi",
    "pods": 20,
    "storage": "12Gi",
    "pvcs": 2,
}


def shaped(**quota: Any) -> dict[str, Any]:
    return {**SHAPE, "quota": {**SHAPE_QUOTA, **quota}}


@dataclass(frozen=True)
class Case:
    rule: str  # the id of the rule that must refuse it
    overlay: Overlay  # the mistake
    line: str  # the one line it must give
    ok: Overlay | None = None  # the nearest allowed value, which must load
    env: str = "prod"  # the committed environment it goes over


C = Case
CASES = [
    # --- EnvConfig ---------------------------------------------------------------------
    C("EnvConfig.name", at("name", "Prod"), f"prod: name='Prod' is invalid: {dns_label(20)}"),
    C(
        "EnvConfig.name",
        at("name", "p" * 21),
        f"prod: name='{'p' * 21}' is invalid: {dns_label(20)}",
        at("name", "p" * 20),
    ),
    C(
        "EnvConfig.namespace",
        at("namespace", "Production"),
        f"prod: namespace='Production' is invalid: {dns_label(54)}",
    ),
    C(
        "EnvConfig.namespace",
        at("namespace", "production\n"),
        f"prod: namespace='production\\n' is invalid: {dns_label(54)}",
    ),
    C(
        "EnvConfig.namespace",
        at("namespace", "n" * 55),
        f"prod: namespace='{'n' * 55}' is invalid: {dns_label(54)}",
        at("namespace", "n" * 54),
    ),
    C(
        "EnvConfig.image_pull_secrets",
        at("image_pull_secrets", ["registry", "Registry Creds"]),
        f"prod: image_pull_secrets=('registry', 'Registry Creds') is invalid: "
        f"{SUBDOMAIN} ('Registry Creds' is not)",
        at("image_pull_secrets", ["registry", "ghcr.io-creds"]),
    ),
    C(
        "EnvConfig.extra_env",
        at("extra_env", {"PORT": "8080"}),
        f"prod: extra_env={{'PORT': '8080'}} is invalid: {ENV_NAMES} ('PORT' is not)",
        at("extra_env", {"FEATURE_FLAG_2": "on", "_X": ""}),
    ),
    C(
        "EnvConfig.extra_env",
        at("extra_env", {"feature-flag": "on"}),
        f"prod: extra_env={{'feature-flag': 'on'}} is invalid: {ENV_NAMES} ('feature-flag' is not)",
    ),
    # --- Image -------------------------------------------------------------------------
    C(
        "Image.repository",
        at("image.repository", "ghcr.io/Your-Org/vibeyard"),
        f"prod: image.repository='ghcr.io/Your-Org/vibeyard' is invalid: {REPOSITORY}",
        at("image.repository", "registry.example.com:5000/your-org/vibe_yard"),
    ),
    C(
        "Image.repository",
        at("image.repository", "ghcr.io/your-org/vibeyard:1.0.0"),
        f"prod: image.repository='ghcr.io/your-org/vibeyard:1.0.0' is invalid: {REPOSITORY}",
    ),
    C(
        "Image.tag",
        at("image.tag", "latest"),
        f"prod: image.tag='latest' is invalid: {TAG}",
        at("image.tag", "latest1"),
    ),
    C("Image.tag", at("image.tag", "1.0 .0"), f"prod: image.tag='1.0 .0' is invalid: {TAG}"),
    # The tag is the app.kubernetes.io/version label too: alphanumeric at both ends, 63 at most.
    C(
        "Image.tag",
        at("image.tag", "_1.0"),
        f"prod: image.tag='_1.0' is invalid: {TAG}",
        at("image.tag", "v1_0-rc.1"),
    ),
    C("Image.tag", at("image.tag", "1.0-"), f"prod: image.tag='1.0-' is invalid: {TAG}"),
    C(
        "Image.tag",
        at("image.tag", "1" * 64),
        f"prod: image.tag='{'1' * 59}...(64 characters) is invalid: {TAG}",
        at("image.tag", "1" * 63),
    ),
    C(
        "Image.digest",
        at("image.digest", "sha256:abc"),
        f"prod: image.digest='sha256:abc' is invalid: {DIGEST}",
        at("image.digest", GOOD_DIGEST),
    ),
    C(
        "Image.digest",
        at("postgres.image.digest", "sha256:" + "A" * 64),
        f"prod: postgres.image.digest='sha256:{'A' * 52}...(71 characters) is invalid: {DIGEST}",
    ),
    # --- Signatures ------------------------------------------------------------------------
    C(
        "Signatures.signer_identity",
        at("signatures.signer_identity", "^https://github.com/(x"),
        "prod: signatures.signer_identity='^https://github.com/(x' is invalid: "
        "a regular expression (missing ), unterminated subpattern at position 20)",
        at("signatures.signer_identity", "^https://github.com/(x)"),
    ),
    C(
        "Signatures.signer_issuer",
        at("signatures.signer_issuer", "token.actions.githubusercontent.com"),
        "prod: signatures.signer_issuer='token.actions.githubusercontent.com' is invalid: "
        "an absolute https URL",
    ),
    C(
        "Signatures.unsigned_repositories",
        at("signatures.unsigned_repositories", ["quay.io/jetstack/cert-manager-acmesolver:v1"]),
        "prod: signatures.unsigned_repositories=('quay.io/jetstack/cert-manager-acmesolver:v1',) is invalid: "
        f"{REPOSITORY} ('quay.io/jetstack/cert-manager-acmesolver:v1' is not)",
    ),
    C(
        "Signatures._admission_after_verify",
        {"signatures": {"verify": False, "admission": "warn"}},
        "prod: signatures.admission='warn' is invalid: "
        "'off' unless verify is on: the pipeline checks first, then the cluster",
        {"signatures": {"verify": True, "admission": "warn"}},
    ),
    # --- EdgeConfig, GatewayConfig, SharedGateway, IngressConfig, DataPlane -----------------
    C(
        "EdgeConfig.host",
        at("edge.host", "https://vibeyard.example.com"),
        f"prod: edge.host='https://vibeyard.example.com' is invalid: {HOST}",
        at("edge.host", "a-1.b.example"),
    ),
    C(
        "EdgeConfig.host",
        at("edge.host", "vibeyard"),
        f"prod: edge.host='vibeyard' is invalid: {HOST}",
    ),
    C(
        "EdgeConfig.tls_secret",
        at("edge.tls_secret", "Vibeyard-TLS"),
        f"prod: edge.tls_secret='Vibeyard-TLS' is invalid: {SUBDOMAIN}",
    ),
    C(
        "EdgeConfig.cluster_issuer",
        at("edge.cluster_issuer", "letsencrypt prod"),
        f"prod: edge.cluster_issuer='letsencrypt prod' is invalid: {SUBDOMAIN}",
    ),
    C(
        "EdgeConfig.max_body_size",
        at("edge.max_body_size", "10 MB"),
        "prod: edge.max_body_size='10 MB' is invalid: an nginx size like '10m', '512k' or '1g'",
        at("edge.max_body_size", "1G"),
    ),
    C(
        "EdgeConfig.request_timeout_seconds",
        at("edge.request_timeout_seconds", 3601),
        f"prod: edge.request_timeout_seconds=3601 is invalid: {between(1, 3600)}",
        at("edge.request_timeout_seconds", 3600),
    ),
    C(
        "GatewayConfig.class_name",
        at("edge.gateway.class_name", "EG"),
        f"prod: edge.gateway.class_name='EG' is invalid: {SUBDOMAIN}",
        at("edge.gateway.class_name", "eg"),
    ),
    C(
        "GatewayConfig._custom_needs_data_plane",
        at("edge.gateway.implementation", "custom"),
        "prod: edge.gateway.data_plane=None is invalid: "
        "the proxies' namespace and labels, or cidrs, for implementation 'custom'",
        {"edge": {"gateway": {"implementation": "custom", "data_plane": {"cidrs": ["10.0.0.0/16"]}}}},
    ),
    C(
        "SharedGateway.name",
        at("edge.gateway.shared", {"name": "Public", "namespace": "gateway-system"}),
        f"prod: edge.gateway.shared.name='Public' is invalid: {SUBDOMAIN}",
        at("edge.gateway.shared", {"name": "public", "namespace": "gateway-system"}),
    ),
    C(
        "SharedGateway.namespace",
        at("edge.gateway.shared", {"name": "public", "namespace": "gateway.system"}),
        f"prod: edge.gateway.shared.namespace='gateway.system' is invalid: {dns_label(63)}",
    ),
    C(
        "SharedGateway.http_listener",
        at("edge.gateway.shared", {"name": "public", "namespace": "gw", "http_listener": "HTTP"}),
        f"prod: edge.gateway.shared.http_listener='HTTP' is invalid: {dns_label(63)}",
    ),
    C(
        "SharedGateway.https_listener",
        at("edge.gateway.shared", {"name": "public", "namespace": "gw", "https_listener": "https_1"}),
        f"prod: edge.gateway.shared.https_listener='https_1' is invalid: {dns_label(63)}",
    ),
    C(
        "SharedGateway.namespace_labels",
        at("edge.gateway.shared", {"name": "public", "namespace": "gw", "namespace_labels": {"a": "-b"}}),
        f"prod: edge.gateway.shared.namespace_labels={{'a': '-b'}} is invalid: {label_value('-b')}",
    ),
    C(
        "IngressConfig.class_name",
        at("edge.ingress.class_name", "NGINX"),
        f"prod: edge.ingress.class_name='NGINX' is invalid: {SUBDOMAIN}",
    ),
    C(
        "DataPlane.namespace",
        at("edge.ingress.data_plane", {"namespace": "Ingress"}),
        f"prod: edge.ingress.data_plane.namespace='Ingress' is invalid: {dns_label(63)}",
        at("edge.ingress.data_plane", {"namespace": "ingress"}),
    ),
    C(
        "DataPlane.pod_labels",
        at("edge.ingress.data_plane", {"namespace": "ingress", "pod_labels": {"/name": "x"}}),
        f"prod: edge.ingress.data_plane.pod_labels={{'/name': 'x'}} is invalid: {label_key('/name')}",
    ),
    C(
        "DataPlane.cidrs",
        at("edge.gateway.data_plane", {"cidrs": ["10.0.0.0/33"]}),
        f"prod: edge.gateway.data_plane.cidrs=('10.0.0.0/33',) is invalid: {CIDR} ('10.0.0.0/33' is not)",
        at("edge.gateway.data_plane", {"cidrs": ["10.0.0.0/32"]}),
    ),
    C(
        "DataPlane._pods_or_ranges",
        at("edge.gateway.data_plane", {"namespace": "gw", "cidrs": ["10.0.0.0/16"]}),
        "prod: edge.gateway.data_plane.cidrs=('10.0.0.0/16',) is invalid: "
        "pods (namespace) or cidrs, exactly one",
    ),
    # --- WebConfig ---------------------------------------------------------------------
    C(
        "WebConfig.replicas",
        at("web.replicas", 0),
        f"prod: web.replicas=0 is invalid: {between(1)}",
        at("web.replicas", 1),
    ),
    C("WebConfig.port", at("web.port", 0), f"prod: web.port=0 is invalid: {PORT}", at("web.port", 1)),
    C(
        "WebConfig.port",
        at("web.port", 65536),
        f"prod: web.port=65536 is invalid: {PORT}",
        at("web.port", 65535),
    ),
    C(
        "WebConfig.health_path",
        at("web.health_path", "api/health"),
        f"prod: web.health_path='api/health' is invalid: {PATH}",
    ),
    C(
        "WebConfig.metrics_path",
        at("web.metrics_path", "/api/ metrics"),
        f"prod: web.metrics_path='/api/ metrics' is invalid: {PATH}",
    ),
    C(
        "WebConfig.termination_grace_seconds",
        at("web", {"termination_grace_seconds": 0, "pre_stop_sleep_seconds": 0}),
        f"prod: web.termination_grace_seconds=0 is invalid: {between(1)}",
        at("web", {"termination_grace_seconds": 1, "pre_stop_sleep_seconds": 0}),
    ),
    C(
        "WebConfig.pre_stop_sleep_seconds",
        at("web", {"termination_grace_seconds": 200, "pre_stop_sleep_seconds": 121}),
        f"prod: web.pre_stop_sleep_seconds=121 is invalid: {between(0, 120)}",
        at("web", {"termination_grace_seconds": 200, "pre_stop_sleep_seconds": 120}),
    ),
    C(
        "WebConfig._grace_after_pre_stop",
        at("web", {"termination_grace_seconds": 10, "pre_stop_sleep_seconds": 10}),
        "prod: web.termination_grace_seconds=10 is invalid: more than pre_stop_sleep_seconds (10) so "
        "requests can drain",
        at("web", {"termination_grace_seconds": 11, "pre_stop_sleep_seconds": 10}),
    ),
    # --- Resources (the web tier's; a request never grows, so the quota does not notice) ---
    C(
        "Resources.cpu_request",
        at("web.resources.cpu_request", "1.5cores"),
        f"prod: web.resources.cpu_request='1.5cores' is invalid: {CPU}",
        at("web.resources.cpu_request", "0.25"),
    ),
    C(
        "Resources.memory_request",
        at("web.resources.memory_request", "512mb"),
        f"prod: web.resources.memory_request='512mb' is invalid: {MEM}",
        at("web.resources.memory_request", "0.5Gi"),
    ),
    C(
        "Resources.memory_limit",
        at("web.resources.memory_limit", "1GB"),
        f"prod: web.resources.memory_limit='1GB' is invalid: {MEM}",
        at("web.resources.memory_limit", "1G"),
    ),
    C(
        "Resources.cpu_limit",
        at("web.resources.cpu_limit", "2 cores"),
        f"prod: web.resources.cpu_limit='2 cores' is invalid: {CPU}",
        at("web.resources.cpu_limit", None),
    ),
    C(
        "Resources._cpu_within_limit",
        at("web.resources.cpu_limit", "249m"),
        "prod: web.resources.cpu_request='250m' is invalid: at most the CPU limit 249m",
        at("web.resources.cpu_limit", "0.25"),
    ),
    C(
        "Resources._memory_within_limit",
        at("web.resources.memory_limit", "511Mi"),
        "prod: web.resources.memory_request='512Mi' is invalid: at most the memory limit 511Mi",
        at("web.resources.memory_limit", "0.5Gi"),
    ),
    # --- Autoscaling and ScaleDown ------------------------------------------------------
    C(
        "Autoscaling.min_replicas",
        at("web.autoscaling.min_replicas", 0),
        f"prod: web.autoscaling.min_replicas=0 is invalid: {between(1)}",
        at("web.autoscaling.min_replicas", 1),
    ),
    C(
        "Autoscaling.max_replicas",
        at("web.autoscaling.max_replicas", 0),
        f"prod: web.autoscaling.max_replicas=0 is invalid: {between(1)}",
    ),
    C(
        "Autoscaling.cpu_utilization",
        at("web.autoscaling.cpu_utilization", 101),
        f"prod: web.autoscaling.cpu_utilization=101 is invalid: {PERCENT}",
        at("web.autoscaling.cpu_utilization", 100),
    ),
    C(
        "Autoscaling.memory_utilization",
        at("web.autoscaling.memory_utilization", 0),
        f"prod: web.autoscaling.memory_utilization=0 is invalid: {PERCENT}",
        at("web.autoscaling.memory_utilization", None),
    ),
    C(
        "Autoscaling._min_within_max",
        at("web.autoscaling", {"min_replicas": 5, "max_replicas": 4}),
        "prod: web.autoscaling.min_replicas=5 is invalid: at most max_replicas (4)",
        at("web.autoscaling", {"min_replicas": 4, "max_replicas": 4}),
    ),
    C(
        "ScaleDown.stabilization_seconds",
        at("web.autoscaling.scale_down.stabilization_seconds", 3601),
        f"prod: web.autoscaling.scale_down.stabilization_seconds=3601 is invalid: {between(0, 3600)}",
        at("web.autoscaling.scale_down.stabilization_seconds", 0),
    ),
    C(
        "ScaleDown.max_percent",
        pool(scale_down={"max_percent": 0}),
        f"prod: workers[0].scale_down.max_percent=0 is invalid: {PERCENT}",
        pool(scale_down={"max_percent": 1}),
    ),
    C(
        "ScaleDown.period_seconds",
        at("web.autoscaling.scale_down.period_seconds", 1801),
        f"prod: web.autoscaling.scale_down.period_seconds=1801 is invalid: {between(1, 1800)}",
        at("web.autoscaling.scale_down.period_seconds", 1800),
    ),
    C(
        "Disruption.max_unavailable",
        at("web.disruption.max_unavailable", 0),
        f"prod: web.disruption.max_unavailable=0 is invalid: {between(1)}",
        at("web.disruption.max_unavailable", 2147483647),
    ),
    # --- Placement and Toleration --------------------------------------------------------
    C(
        "Placement.spot_weight",
        at("web.placement.spot_weight", 0),
        f"prod: web.placement.spot_weight=0 is invalid: {PERCENT}",
        at("web.placement.spot_weight", 1),
    ),
    C(
        "Placement.spot_weight",
        at("web.placement.spot_weight", 101),
        f"prod: web.placement.spot_weight=101 is invalid: {PERCENT}",
        at("web.placement.spot_weight", 100),
    ),
    C(
        "Placement.node_selector",
        at("web.placement.node_selector", {"pool type": "general"}),
        f"prod: web.placement.node_selector={{'pool type': 'general'}} is invalid: {label_key('pool type')}",
        at("web.placement.node_selector", {"example.com/pool-type": "general_1"}),
    ),
    C(
        "Placement.node_selector",
        at("web.placement.node_selector", {"pool": "-spot"}),
        f"prod: web.placement.node_selector={{'pool': '-spot'}} is invalid: {label_value('-spot')}",
        at("web.placement.node_selector", {"pool": "s" * 63}),
    ),
    C(
        "Placement.node_selector",
        at("web.placement.node_selector", {"pool": "s" * 64}),
        f"prod: web.placement.node_selector={{'pool': '{'s' * 50}...(76 characters) is invalid: "
        f"{label_value('s' * 64)}",
    ),
    C(
        "Toleration.key",
        at("web.placement.tolerations", [{"key": "dedicated pool"}]),
        "prod: web.placement.tolerations[0].key='dedicated pool' is invalid: a taint key",
        at("web.placement.tolerations", [{"key": "example.com/dedicated"}]),
    ),
    C(
        "Toleration._value_fits_operator",
        at("web.placement.tolerations", [{"key": "dedicated", "value": "web", "operator": "Exists"}]),
        "prod: web.placement.tolerations[0].value='web' is invalid: None with 'Exists'",
        at("web.placement.tolerations", [{"key": "dedicated", "operator": "Exists"}]),
    ),
    C(
        "Toleration._value_fits_operator",
        at("web.placement.tolerations", [{"key": "dedicated", "value": "web-"}]),
        f"prod: web.placement.tolerations[0].value='web-' is invalid: {LABEL_VALUE}",
        at("web.placement.tolerations", [{"key": "dedicated", "value": "web-1"}]),
    ),
    # --- WorkerPool --------------------------------------------------------------------
    C(
        "WorkerPool.name",
        pool(name="bulk_jobs"),
        f"prod: workers[0].name='bulk_jobs' is invalid: {dns_label(47)}",
        pool(name="bulk-jobs"),
    ),
    C(
        "WorkerPool.name",
        pool(name="a" * 48),
        f"prod: workers[0].name='{'a' * 48}' is invalid: {dns_label(47)}",
        pool(name="a" * 47),
    ),
    C(
        "WorkerPool.queues",
        pool(queues=[]),
        "prod: workers[0].queues=() is invalid: a non-empty tuple of BullMQ queue names",
        pool(queues=["a"]),
    ),
    C(
        "WorkerPool.queues",
        pool(queues=["default", "bulk jobs"]),
        "prod: workers[0].queues=('default', 'bulk jobs') is invalid: queue names of letters, digits, '_', "
        "'.' "
        "and '-' ('bulk jobs' is not)",
        pool(queues=["default", "Bulk_jobs.v-2"]),
    ),
    C(
        "WorkerPool.replicas",
        pool(replicas=-1),
        f"prod: workers[0].replicas=-1 is invalid: {between(0)}",
        pool(replicas=0),
    ),
    C(
        "WorkerPool.min_replicas",
        pool(min_replicas=-1),
        f"prod: workers[0].min_replicas=-1 is invalid: {between(0)}",
        pool(min_replicas=0),
    ),
    C(
        "WorkerPool.max_replicas",
        pool(min_replicas=0, max_replicas=0),
        f"prod: workers[0].max_replicas=0 is invalid: {between(1)}",
        pool(min_replicas=0, max_replicas=1),
    ),
    C(
        "WorkerPool.concurrency",
        pool(concurrency=1001),
        f"prod: workers[0].concurrency=1001 is invalid: {between(1, 1000)}",
        pool(concurrency=1000),
    ),
    C(
        "WorkerPool.command",
        pool(command=["sh", "-c", "node dist/worker.js"]),
        "prod: workers[0].command=('sh', '-c', 'node dist/worker.js') is invalid: an exec-form command "
        "without a "
        "shell wrapper, so SIGTERM reaches the process",
        pool(command=["node"]),
    ),
    C("WorkerPool.command", pool(command=[]), f"prod: workers[0].command=() is invalid: {EXEC}"),
    C(
        "WorkerPool.longest_job_seconds",
        pool(longest_job_seconds=86401),
        f"prod: workers[0].longest_job_seconds=86401 is invalid: {between(1, 86400)}",
        pool(longest_job_seconds=86400),
    ),
    C(
        "WorkerPool.queue_list_length",
        pool(queue_list_length=0),
        f"prod: workers[0].queue_list_length=0 is invalid: {between(1)}",
        pool(queue_list_length=1),
    ),
    C(
        "WorkerPool.metrics_port",
        pool(metrics_port=0),
        f"prod: workers[0].metrics_port=0 is invalid: {PORT}",
        pool(metrics_port=None),
    ),
    C(
        "WorkerPool._min_within_max",
        pool(min_replicas=9, max_replicas=8),
        "prod: workers[0].min_replicas=9 is invalid: at most max_replicas (8)",
        pool(min_replicas=8, max_replicas=8),
    ),
    # --- PostgresConfig ----------------------------------------------------------------
    C(
        "PostgresConfig.user",
        at("postgres.user", "Vibeyard"),
        f"prod: postgres.user='Vibeyard' is invalid: {SQL}",
        at("postgres.user", "_app1"),
    ),
    C(
        "PostgresConfig.database",
        at("postgres.database", "vibe-yard"),
        f"prod: postgres.database='vibe-yard' is invalid: {SQL}",
        at("postgres.database", "d" * 63),
    ),
    C(
        "PostgresConfig.database",
        at("postgres.database", "d" * 64),
        f"prod: postgres.database='{'d' * 59}...(64 characters) is invalid: {SQL}",
    ),
    C(
        "PostgresConfig.host",
        at("postgres.host", "db_primary"),
        f"prod: postgres.host='db_primary' is invalid: {HOST}",
    ),
    C("PostgresConfig.port", at("postgres.port", 0), f"prod: postgres.port=0 is invalid: {PORT}"),
    C(
        "PostgresConfig.storage_size",
        at("postgres.storage_size", "20GB"),
        f"prod: postgres.storage_size='20GB' is invalid: {MEM}",
    ),
    C(
        "PostgresConfig.storage_class",
        at("postgres.storage_class", "GP3"),
        f"prod: postgres.storage_class='GP3' is invalid: {SUBDOMAIN}",
        at("postgres.storage_class", "gp3.encrypted"),
    ),
    C(
        "PostgresConfig.shm_size",
        at("postgres.shm_size", "1/4Gi"),
        f"prod: postgres.shm_size='1/4Gi' is invalid: {MEM}",
    ),
    C(
        "PostgresConfig.termination_grace_seconds",
        at("postgres", {"termination_grace_seconds": 0, "shutdown_timeout_seconds": 5}),
        f"prod: postgres.termination_grace_seconds=0 is invalid: {between(1)}",
    ),
    C(
        "PostgresConfig.shutdown_timeout_seconds",
        at("postgres.shutdown_timeout_seconds", 4),
        f"prod: postgres.shutdown_timeout_seconds=4 is invalid: {between(5, 3600)}",
        at("postgres.shutdown_timeout_seconds", 5),
    ),
    C(
        "PostgresConfig.shutdown_timeout_seconds",
        at("postgres", {"shutdown_timeout_seconds": 3601, "termination_grace_seconds": 4000}),
        f"prod: postgres.shutdown_timeout_seconds=3601 is invalid: {between(5, 3600)}",
        at("postgres", {"shutdown_timeout_seconds": 3600, "termination_grace_seconds": 4000}),
    ),
    C("PostgresConfig.uid", at("postgres.uid", 0), f"prod: postgres.uid=0 is invalid: {between(1)}"),
    C(
        "PostgresConfig._grace_covers_shutdown",
        at("postgres", {"termination_grace_seconds": 69, "shutdown_timeout_seconds": 60}),
        "prod: postgres.termination_grace_seconds=69 is invalid: an integer >= 70 (shutdown + 10s)",
        at("postgres", {"termination_grace_seconds": 70, "shutdown_timeout_seconds": 60}),
    ),
    # --- PgBouncerConfig ---------------------------------------------------------------
    C(
        "PgBouncerConfig.replicas",
        at("pgbouncer.replicas", 0),
        f"prod: pgbouncer.replicas=0 is invalid: {between(1)}",
    ),
    C(
        "PgBouncerConfig.default_pool_size",
        at("pgbouncer.default_pool_size", 0),
        f"prod: pgbouncer.default_pool_size=0 is invalid: {between(1)}",
    ),
    C(
        "PgBouncerConfig.max_client_conn",
        at("pgbouncer", {"max_client_conn": 0, "default_pool_size": 1}),
        f"prod: pgbouncer.max_client_conn=0 is invalid: {between(1)}",
        at("pgbouncer", {"max_client_conn": 1, "default_pool_size": 1}),
    ),
    C("PgBouncerConfig.port", at("pgbouncer.port", 70000), f"prod: pgbouncer.port=70000 is invalid: {PORT}"),
    C("PgBouncerConfig.uid", at("pgbouncer.uid", 0), f"prod: pgbouncer.uid=0 is invalid: {between(1)}"),
    C(
        "PgBouncerConfig.termination_grace_seconds",
        at("pgbouncer.termination_grace_seconds", 14),
        f"prod: pgbouncer.termination_grace_seconds=14 is invalid: {between(15, 600)}",
        at("pgbouncer.termination_grace_seconds", 15),
    ),
    C(
        "PgBouncerConfig.termination_grace_seconds",
        at("pgbouncer.termination_grace_seconds", 601),
        f"prod: pgbouncer.termination_grace_seconds=601 is invalid: {between(15, 600)}",
        at("pgbouncer.termination_grace_seconds", 600),
    ),
    C(
        "PgBouncerConfig._clients_cover_pool",
        at("pgbouncer", {"max_client_conn": 19, "default_pool_size": 20}),
        "prod: pgbouncer.max_client_conn=19 is invalid: at least default_pool_size (20)",
        at("pgbouncer", {"max_client_conn": 20, "default_pool_size": 20}),
    ),
    # --- RedisConfig and CacheConfig ----------------------------------------------------
    C(
        "RedisConfig.storage_size",
        at("redis.storage_size", "8 Gi"),
        f"prod: redis.storage_size='8 Gi' is invalid: {MEM}",
    ),
    C(
        "RedisConfig.storage_class",
        at("redis.storage_class", "premium_ssd"),
        f"prod: redis.storage_class='premium_ssd' is invalid: {SUBDOMAIN}",
    ),
    C(
        "RedisConfig.maxmemory_percent",
        at("redis.maxmemory_percent", 61),
        f"prod: redis.maxmemory_percent=61 is invalid: {between(10, 60)}",
        at("redis.maxmemory_percent", 60),
    ),
    C(
        "RedisConfig.maxmemory_percent",
        at("redis.maxmemory_percent", 9),
        f"prod: redis.maxmemory_percent=9 is invalid: {between(10, 60)}",
        at("redis.maxmemory_percent", 10),
    ),
    C(
        "RedisConfig.memory_alert_ratio",
        at("redis.memory_alert_ratio", 1),
        f"prod: redis.memory_alert_ratio=1 is invalid: {FRACTION}",
        at("redis.memory_alert_ratio", 0.99),
    ),
    C(
        "RedisConfig.memory_alert_ratio",
        at("redis.memory_alert_ratio", 0.0),
        f"prod: redis.memory_alert_ratio=0.0 is invalid: {FRACTION}",
        at("redis.memory_alert_ratio", 0.01),
    ),
    C(
        "RedisConfig.uid",
        at("redis.uid", 0),
        f"prod: redis.uid=0 is invalid: {between(1)}",
        at("redis.uid", 1),
    ),
    C("RedisConfig.gid", at("redis.gid", -1), f"prod: redis.gid=-1 is invalid: {between(1)}"),
    C("RedisConfig.port", at("redis.port", 0), f"prod: redis.port=0 is invalid: {PORT}"),
    C(
        "RedisConfig.termination_grace_seconds",
        at("redis.termination_grace_seconds", 9),
        f"prod: redis.termination_grace_seconds=9 is invalid: {between(10)}",
        at("redis.termination_grace_seconds", 10),
    ),
    C(
        "CacheConfig.maxmemory_percent",
        at("cache.maxmemory_percent", 91),
        f"prod: cache.maxmemory_percent=91 is invalid: {between(10, 90)}",
        at("cache.maxmemory_percent", 90),
    ),
    C("CacheConfig.port", at("cache.port", 65536), f"prod: cache.port=65536 is invalid: {PORT}"),
    # --- SecretsConfig -----------------------------------------------------------------
    C(
        "SecretsConfig.name",
        at("secrets.name", "Vibeyard Secrets"),
        f"prod: secrets.name='Vibeyard Secrets' is invalid: {SUBDOMAIN}",
    ),
    C(
        "SecretsConfig.sealed_file",
        at("secrets.sealed_file", ""),
        "prod: secrets.sealed_file='' is invalid: a path",
    ),
    C(
        "SecretsConfig.external_store",
        at("secrets.external_store", "vault/store"),
        f"prod: secrets.external_store='vault/store' is invalid: {SUBDOMAIN}",
    ),
    C(
        "SecretsConfig.refresh_interval",
        at("secrets.refresh_interval", "0s"),
        f"prod: secrets.refresh_interval='0s' is invalid: {DURATION}",
        at("secrets.refresh_interval", "1s"),
    ),
    C(
        "SecretsConfig.refresh_interval",
        at("secrets.refresh_interval", "1 hour"),
        f"prod: secrets.refresh_interval='1 hour' is invalid: {DURATION}",
    ),
    # --- ClusterConfig and DnsConfig ----------------------------------------------------
    C(
        "ClusterConfig.cluster_domain",
        at("cluster.cluster_domain", "cluster_local"),
        f"prod: cluster.cluster_domain='cluster_local' is invalid: {SUBDOMAIN}",
        at("cluster.cluster_domain", "c1.example"),
    ),
    C(
        "DnsConfig.namespace",
        at("cluster.dns.namespace", "Kube-System"),
        f"prod: cluster.dns.namespace='Kube-System' is invalid: {dns_label(63)}",
    ),
    C(
        "DnsConfig.pod_labels",
        at("cluster.dns.pod_labels", {"k8s app": "kube-dns"}),
        f"prod: cluster.dns.pod_labels={{'k8s app': 'kube-dns'}} is invalid: {label_key('k8s app')}",
        at("cluster.dns.pod_labels", {}),
    ),
    C(
        "DnsConfig.addresses",
        at("cluster.dns", {"mode": "node-local", "addresses": ["10.100.0.10"]}),
        f"prod: cluster.dns.addresses=('10.100.0.10',) is invalid: {CIDR} ('10.100.0.10' is not)",
        at("cluster.dns", {"mode": "node-local", "addresses": ["10.100.0.10/32", "fd00::a/128"]}),
    ),
    C(
        "DnsConfig._addresses_in_addresses_mode",
        at("cluster.dns.mode", "addresses"),
        "prod: cluster.dns.addresses=() is invalid: the resolvers' CIDRs in mode 'addresses'",
        at("cluster.dns", {"mode": "addresses", "addresses": ["10.100.0.10/32"]}),
    ),
    # --- KedaConfig --------------------------------------------------------------------
    C(
        "KedaConfig.polling_interval_seconds",
        at("keda.polling_interval_seconds", 3601),
        f"prod: keda.polling_interval_seconds=3601 is invalid: {between(1, 3600)}",
        at("keda.polling_interval_seconds", 3600),
    ),
    C(
        "KedaConfig.cooldown_period_seconds",
        at("keda.cooldown_period_seconds", 86401),
        f"prod: keda.cooldown_period_seconds=86401 is invalid: {between(0, 86400)}",
        at("keda.cooldown_period_seconds", 0),
    ),
    C(
        "KedaConfig.namespace",
        at("keda.namespace", "KEDA"),
        f"prod: keda.namespace='KEDA' is invalid: {dns_label(63)}",
    ),
    C(
        "KedaConfig.operator_labels",
        at("keda.operator_labels", {"app": "keda-"}),
        f"prod: keda.operator_labels={{'app': 'keda-'}} is invalid: {label_value('keda-')}",
    ),
    # --- NetworkConfig and ManagedEgress ------------------------------------------------
    C(
        "NetworkConfig.monitoring_namespace",
        at("network.monitoring_namespace", "-monitoring"),
        f"prod: network.monitoring_namespace='-monitoring' is invalid: {dns_label(63)}",
    ),
    C(
        "NetworkConfig.https_except",
        at("network.https_except", ["10.0.0.0/8", "192.168.0.0"]),
        f"prod: network.https_except=('10.0.0.0/8', '192.168.0.0') is invalid: {CIDR} ('192.168.0.0' is not)",
        at("network.https_except", []),
    ),
    C(
        "ManagedEgress.cidr",
        at("network.managed_egress", [{"cidr": "10.20.0.0", "port": 5432}]),
        f"prod: network.managed_egress[0].cidr='10.20.0.0' is invalid: {CIDR}",
        at("network.managed_egress", [{"cidr": "10.20.0.0/32", "port": 5432}]),
    ),
    C(
        "ManagedEgress.port",
        at("network.managed_egress", [{"cidr": "10.20.0.0/16", "port": 0}]),
        f"prod: network.managed_egress[0].port=0 is invalid: {PORT}",
    ),
    # --- QuotaConfig ---------------------------------------------------------------------
    C(
        "QuotaConfig.cpu_requests",
        at("quota.cpu_requests", "16 cores"),
        f"prod: quota.cpu_requests='16 cores' is invalid: {CPU}",
    ),
    C(
        "QuotaConfig.memory_requests",
        at("quota.memory_requests", "32GB"),
        f"prod: quota.memory_requests='32GB' is invalid: {MEM}",
    ),
    C(
        "QuotaConfig.memory_limits",
        at("quota.memory_limits", "-64Gi"),
        f"prod: quota.memory_limits='-64Gi' is invalid: {MEM}",
    ),
    C("QuotaConfig.pods", at("quota.pods", 0), f"prod: quota.pods=0 is invalid: {between(1)}"),
    C("QuotaConfig.pvcs", at("quota.pvcs", -1), f"prod: quota.pvcs=-1 is invalid: {between(0)}"),
    C("QuotaConfig.storage", at("quota.storage", "50 Gi"), f"prod: quota.storage='50 Gi' is invalid: {MEM}"),
    # --- MonitoringConfig --------------------------------------------------------------
    C(
        "MonitoringConfig.scrape_interval",
        at("monitoring.scrape_interval", "30"),
        f"prod: monitoring.scrape_interval='30' is invalid: {DURATION}",
    ),
    C(
        "MonitoringConfig.prometheus_release",
        at("monitoring.prometheus_release", "kube-prometheus-stack-"),
        f"prod: monitoring.prometheus_release='kube-prometheus-stack-' is invalid: {LABEL_VALUE}",
    ),
    C(
        "MonitoringConfig.error_rate_threshold",
        at("monitoring.error_rate_threshold", 1.0),
        f"prod: monitoring.error_rate_threshold=1.0 is invalid: {FRACTION}",
        at("monitoring.error_rate_threshold", 0.999),
    ),
    C(
        "MonitoringConfig.latency_p95_seconds",
        at("monitoring.latency_p95_seconds", 0),
        "prod: monitoring.latency_p95_seconds=0 is invalid: a positive number",
        at("monitoring.latency_p95_seconds", 0.001),
    ),
    C(
        "MonitoringConfig.queue_depth_threshold",
        at("monitoring.queue_depth_threshold", 0),
        f"prod: monitoring.queue_depth_threshold=0 is invalid: {between(1)}",
        at("monitoring.queue_depth_threshold", 2147483647),
    ),
    C(
        "MonitoringConfig.failed_jobs_threshold",
        at("monitoring.failed_jobs_threshold", 0),
        f"prod: monitoring.failed_jobs_threshold=0 is invalid: {between(1)}",
    ),
    C(
        "MonitoringConfig.pool_waiting_clients_threshold",
        at("monitoring.pool_waiting_clients_threshold", -1),
        f"prod: monitoring.pool_waiting_clients_threshold=-1 is invalid: {between(0)}",
        at("monitoring.pool_waiting_clients_threshold", 0),
    ),
    # --- MigrationConfig ---------------------------------------------------------------
    C(
        "MigrationConfig.command",
        at("migration.command", []),
        f"prod: migration.command=() is invalid: {EXEC}",
    ),
    C(
        "MigrationConfig.database_wait_seconds",
        at("migration.database_wait_seconds", 3601),
        f"prod: migration.database_wait_seconds=3601 is invalid: {between(0, 3600)}",
    ),
    C(
        "MigrationConfig._wait_within_deadline",
        at("migration.database_wait_seconds", 600),
        "prod: migration.database_wait_seconds=600 is invalid: less than active_deadline_seconds (600)",
        at("migration.database_wait_seconds", 599),
    ),
    C(
        "MigrationConfig.backoff_limit",
        at("migration.backoff_limit", 11),
        f"prod: migration.backoff_limit=11 is invalid: {between(0, 10)}",
        at("migration.backoff_limit", 10),
    ),
    C(
        "MigrationConfig.active_deadline_seconds",
        at("migration.active_deadline_seconds", 0),
        f"prod: migration.active_deadline_seconds=0 is invalid: {between(1)}",
    ),
    C(
        "MigrationConfig.ttl_seconds_after_finished",
        at("migration.ttl_seconds_after_finished", -1),
        f"prod: migration.ttl_seconds_after_finished=-1 is invalid: {between(0)}",
        at("migration.ttl_seconds_after_finished", 0),
    ),
    # --- GitOpsConfig and Destination ---------------------------------------------------
    C(
        "GitOpsConfig.repo_url",
        at("gitops.repo_url", "http://github.com/your-org/vibeyard-deploy.git"),
        "prod: gitops.repo_url='http://github.com/your-org/vibeyard-deploy.git' is invalid: an absolute "
        "https or "
        "ssh URL",
        at("gitops.repo_url", "ssh://git@github.com/your-org/vibeyard-deploy.git"),
    ),
    C(
        "GitOpsConfig.argocd_namespace",
        at("gitops.argocd_namespace", "Argo CD"),
        f"prod: gitops.argocd_namespace='Argo CD' is invalid: {dns_label(63)}",
    ),
    C(
        "GitOpsConfig.project",
        at("gitops.project", "Vibeyard"),
        f"prod: gitops.project='Vibeyard' is invalid: {dns_label(63)}",
    ),
    C(
        "GitOpsConfig.destinations",
        at("gitops.destinations", []),
        "prod: gitops.destinations=() is invalid: at least one destination cluster: add the environment to "
        "clusters in organisation.py",
    ),
    C(
        "Destination.name",
        at("gitops.destinations", [{"name": "Prod EU", "server": "https://prod.k8s.example.com"}]),
        f"prod: gitops.destinations[0].name='Prod EU' is invalid: {dns_label(63)}",
        at("gitops.destinations", [{"name": "prod-eu", "server": "https://10.0.0.1:6443"}]),
    ),
    C(
        "Destination.server",
        at("gitops.destinations", [{"name": "prod-eu", "server": "http://prod.k8s.example.com"}]),
        "prod: gitops.destinations[0].server='http://prod.k8s.example.com' is invalid: an absolute https URL",
    ),
    C(
        "Destination.server",
        at("gitops.destinations", [{"name": "prod-eu", "server": "https://[fd00::1"}]),
        "prod: gitops.destinations[0].server='https://[fd00::1' is invalid: an absolute https URL",
        at("gitops.destinations", [{"name": "prod-eu", "server": "https://[fd00::1]:6443"}]),
    ),
    # --- ENV_CHECKS: one environment, several blocks -----------------------------------
    C(
        "env.named_once",
        {"workers": [{"name": "default", "queues": ["a"]}, {"name": "default", "queues": ["b"]}]},
        "prod: workers[1].name='default' is invalid: a name used only once",
        {"workers": [{"name": "default", "queues": ["a"]}, {"name": "default2", "queues": ["b"]}]},
    ),
    C(
        "env.named_once",
        at("gitops.destinations", [{"name": "eu", "server": "https://a.example"}] * 2),
        "prod: gitops.destinations[1].name='eu' is invalid: a name used only once",
    ),
    C(
        "env.spot_reclaim",
        pool(placement={"prefer_spot": True}, longest_job_seconds=121),
        "prod: workers[0].placement.prefer_spot=True is invalid: False, or workers[0].interruptible=True: "
        "its jobs "
        "(121s) outlast eks's 120s spot reclaim notice",
        pool(placement={"prefer_spot": True}, longest_job_seconds=120),
    ),
    C(
        "env.spot_reclaim",
        {"cluster": {"provider": "gke"}, **pool(placement={"prefer_spot": True}, longest_job_seconds=31)},
        "prod: workers[0].placement.prefer_spot=True is invalid: False, or workers[0].interruptible=True: "
        "its jobs "
        "(31s) outlast gke's 30s spot reclaim notice",
        {
            "cluster": {"provider": "gke"},
            **pool(placement={"prefer_spot": True}, longest_job_seconds=31, interruptible=True),
        },
    ),
    C(
        "env.managed_database_host",
        at("postgres.host", None),
        "prod: postgres.host=None is invalid: the managed database's DNS name, which PgBouncer connects to",
        {"postgres": {"host": None}, "pgbouncer": {"enabled": False}},
    ),
    C(
        "env.managed_database_egress",
        at("network.managed_egress", []),
        f"prod: network.managed_egress=() is invalid: {MANAGED_EGRESS}",
        {"postgres": {"mode": "in-cluster"}, "network": {"managed_egress": []}},
    ),
    C(
        "env.quota",
        shaped(pods=19),
        f"prod: quota.pods=19 is invalid: at least 20, {PEAK}",
        shaped(),
    ),
    # --- TOGETHER_CHECKS: across environments (load_all) ---------------------------------
    C(
        "env.namespace_unique",
        at("namespace", "staging"),
        "staging: namespace='staging' is invalid: a namespace of its own; prod uses it already",
        at("namespace", "staging-2"),
    ),
    C(
        "env.branch_unique",
        at("gitops.target_revision", "develop"),
        "staging: gitops.target_revision='develop' is invalid: a branch of its own; prod tracks it already",
        at("gitops.target_revision", "release"),
    ),
    C(
        "env.promote_from",
        at("gitops.promote_from", "prod"),
        "prod: gitops.promote_from='prod' is invalid: another environment deployed by Argo CD, or None",
        at("gitops.promote_from", None),
    ),
    C(
        "env.promote_from",
        at("gitops.promote_from", "dev"),
        "prod: gitops.promote_from='dev' is invalid: another environment deployed by Argo CD, or None",
    ),
    C(
        "env.promote_from",
        at("gitops.promote_from", "stagign"),
        "prod: gitops.promote_from='stagign' is invalid: another environment deployed by Argo CD, or None",
    ),
]


def loaded(env: str, overlay: Overlay, *, together: bool) -> object:
    """``env`` with ``overlay`` over it: alone, or with every environment (``load_all``)."""
    return load_all(extra={env: overlay}) if together else load(env, overlay)


def refused(env: str, overlay: Overlay, *, together: bool = False) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        loaded(env, overlay, together=together)
    return caught.value


def _id(case: Case) -> str:
    return f"{case.rule}:{CASES.index(case)}"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_a_bad_value_is_refused_by_its_rule(case: Case) -> None:
    err = refused(case.env, case.overlay, together=case.rule in TOGETHER_CHECKS)
    assert (list(err.lines), [p.rule for p in err.problems]) == ([case.line], [case.rule])


@pytest.mark.parametrize("case", [c for c in CASES if c.ok is not None], ids=_id)
def test_the_edge_of_a_rule_is_allowed(case: Case) -> None:
    assert case.ok is not None
    loaded(case.env, case.ok, together=case.rule in TOGETHER_CHECKS)


def rules() -> set[str]:
    """Every rule the code declares, by the id its problems carry."""
    found = set(ENV_CHECKS) | set(TOGETHER_CHECKS)
    for cls in config_classes():
        found |= {f"{cls.__name__}.{f.name}" for f in dataclasses.fields(cls) if f.metadata.get("rule")}
        found |= {rule_id for rule_id, _, _ in checks_of(cls)}
    return found


def test_every_rule_has_a_failing_case() -> None:
    missing = sorted(rules() - {c.rule for c in CASES})
    assert not missing, f"rules without a failing example in CASES: {missing}"


def test_every_case_names_a_rule_that_exists() -> None:
    stale = sorted({c.rule for c in CASES} - rules())
    assert not stale, f"CASES rows for rules the code no longer has: {stale}"


# --- every mistake in one run ----------------------------------------------------------


def test_every_mistake_of_one_environment_in_one_run() -> None:
    """Several fields of a block, several blocks, a ``@check`` and an environment check."""
    overlay = {
        "image": {"tag": "latest"},
        "web": {"replicas": 0, "port": 0, "health_path": "health"},
        **pool(name="Bulk", queues=[]),
        "postgres": {"port": 70000, "user": "Vibeyard"},
        "pgbouncer": {"max_client_conn": 10, "default_pool_size": 20},
        "cluster": {"dns": {"mode": "addresses"}},
        "network": {"managed_egress": []},
    }
    err = refused("prod", overlay)
    assert list(err.lines) == [
        f"prod: image.tag='latest' is invalid: {TAG}",
        f"prod: web.replicas=0 is invalid: {between(1)}",
        f"prod: web.port=0 is invalid: {PORT}",
        f"prod: web.health_path='health' is invalid: {PATH}",
        f"prod: workers[0].name='Bulk' is invalid: {dns_label(47)}",
        "prod: workers[0].queues=() is invalid: a non-empty tuple of BullMQ queue names",
        f"prod: postgres.user='Vibeyard' is invalid: {SQL}",
        f"prod: postgres.port=70000 is invalid: {PORT}",
        "prod: pgbouncer.max_client_conn=10 is invalid: at least default_pool_size (20)",
        "prod: cluster.dns.addresses=() is invalid: the resolvers' CIDRs in mode 'addresses'",
        f"prod: network.managed_egress=() is invalid: {MANAGED_EGRESS}",
    ]


def test_every_type_mistake_in_one_run() -> None:
    overlay = {"colour": "blue", "web": {"replicas": "3", "port": True}, "postgres": {"mode": "cloud"}}
    err = refused("prod", overlay)
    fields = ", ".join(f.name for f in dataclasses.fields(EnvConfig))
    assert sorted(err.lines) == sorted(
        [
            f"prod: colour='blue' is invalid: not a field of EnvConfig; its fields are {fields}",
            f"prod: web.replicas='3' is invalid: {INT}",
            f"prod: web.port=True is invalid: {INT}",
            "prod: postgres.mode='cloud' is invalid: one of 'in-cluster', 'managed'",
        ]
    )


def test_every_environment_s_mistakes_in_one_run() -> None:
    """``load_all`` reports each environment's lines, in the order of the environments."""
    every = names()
    extra = {env: {"web": {"port": 0, "metrics_path": "metrics"}} for env in every}
    with pytest.raises(ConfigError) as caught:
        load_all(extra=extra)
    assert list(caught.value.lines) == [
        line
        for env in every
        for line in (
            f"{env}: web.port=0 is invalid: {PORT}",
            f"{env}: web.metrics_path='metrics' is invalid: {PATH}",
        )
    ]


@pytest.mark.parametrize("env", names())
def test_every_quota_shortfall_in_one_run_with_the_value_that_fits(env: str) -> None:
    short = {
        "cpu_requests": "1409m",
        "memory_requests": "1655Mi",
        "memory_limits": "3Gi",
        "pods": 19,
        "storage": "12287Mi",
        "pvcs": 1,
    }
    err = refused(env, {**SHAPE, "quota": short})
    assert list(err.lines) == [
        f"{env}: quota.cpu_requests='1409m' is invalid: at least 1410m, {PEAK}",
        f"{env}: quota.memory_requests='1655Mi' is invalid: at least 1656Mi, {PEAK}",
        f"{env}: quota.memory_limits='3Gi' is invalid: at least 3312Mi, {PEAK}",
        f"{env}: quota.pods=19 is invalid: at least 20, {PEAK}",
        f"{env}: quota.storage='12287Mi' is invalid: at least 12288Mi, {PEAK}",
        f"{env}: quota.pvcs=1 is invalid: at least 2, {PEAK}",
    ]
    load(env, shaped())  # exactly the peak fits


# --- the committed environments, docs and reach ----------------------------------------


@pytest.mark.parametrize("env", names())
def test_a_committed_environment_loads_without_a_problem(env: str) -> None:
    load(env)


def test_the_committed_environments_load_together() -> None:
    assert list(load_all()) == names()


def settings_classes() -> set[type]:
    """Every config class the config package declares (keyword-only dataclasses: ``@settings``)."""
    found: set[type] = set()
    for info in pkgutil.iter_modules(vibeyard.config.__path__, f"{vibeyard.config.__name__}."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and value.__module__ == module.__name__
                and dataclasses.is_dataclass(value)
                and dataclasses.fields(value)
                and all(f.kw_only for f in dataclasses.fields(value))
            ):
                found.add(value)
    return found


def test_every_config_class_is_reachable_from_envconfig() -> None:
    """So the walking tests (types, unknown keys, docs, rules) see every class."""
    declared = settings_classes()
    assert len(declared) > 20
    unreachable = sorted(c.__name__ for c in declared - set(config_classes()))
    assert not unreachable, f"config classes no environment can set: {unreachable}"


@pytest.mark.parametrize("cls", config_classes(), ids=lambda c: c.__name__)
def test_every_field_has_a_one_line_doc(cls: type) -> None:
    for f in dataclasses.fields(cls):
        doc = f.metadata.get("doc")
        assert isinstance(doc, str) and doc.strip() and "\n" not in doc, (
            f"{cls.__name__}.{f.name} needs a one-line doc: declare it with setting(doc=...)"
        )
