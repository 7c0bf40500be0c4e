"""The checks config validation is written in: one line per mistake, never a traceback.

Every pattern is applied with ``fullmatch``: ``re.match`` with ``$`` would accept
a trailing newline ("prod\\n"), and a value of the wrong type fails as a config
error, not as a ``TypeError``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .base import ConfigError
from .quantity import CPU_ALLOWED, MEMORY_ALLOWED, cpu_millis, memory_bytes
from .types import Autoscaling, Image, Placement, Resources

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
HOSTNAME = re.compile(
    r"(?=.{1,253}\Z)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+"
)
REPOSITORY = re.compile(
    r"(?:[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
DURATION = re.compile(r"[1-9][0-9]*(s|m|h)")
QUEUE = re.compile(r"[A-Za-z0-9_.-]+")
DNS_SUBDOMAIN = re.compile(r"(?=.{1,253}\Z)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# A label or annotation key: an optional DNS-subdomain prefix and a name of at most 63 characters.
QUALIFIED_NAME = re.compile(
    r"(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"(?=[A-Za-z0-9][-A-Za-z0-9_.]{0,62}\Z)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
)
# What the kubelet accepts as an environment variable name (and a shell can read).
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A PostgreSQL identifier we can write unquoted in a URL and in pgbouncer.ini.
SQL_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# nginx's size syntax for client_max_body_size.
NGINX_SIZE = re.compile(r"[0-9]+[kKmMgG]?")

# Objects are labelled ``app.kubernetes.io/instance: vibeyard-<namespace>`` (see
# identity.instance_for) and a label value holds at most 63 characters.
NAMESPACE_MAX = 63 - len("vibeyard-")

DNS_LABEL_ALLOWED = "a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters"


def matches(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Checker:
    env: str

    def fail(self, path: str, value: object, allowed: str) -> None:
        raise ConfigError(f"{self.env}: {path}={value!r} is invalid: {allowed}")

    def require(self, ok: bool, path: str, value: object, allowed: str) -> None:
        if not ok:
            self.fail(path, value, allowed)

    def dns_label(self, path: str, value: str, max_len: int = 63) -> None:
        allowed = DNS_LABEL_ALLOWED.replace("63", str(max_len))
        self.require(matches(DNS_LABEL, value) and len(value) <= max_len, path, value, allowed)

    def label_value(self, path: str, value: str) -> None:
        self.require(
            matches(LABEL_VALUE, value) and len(value) <= 63,
            path,
            value,
            "a label value: at most 63 characters, alphanumeric at both ends, '-_.' inside",
        )

    def int_range(self, path: str, value: int, low: int, high: int | None = None) -> None:
        ok = is_int(value) and value >= low and (high is None or value <= high)
        allowed = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"
        self.require(ok, path, value, allowed)

    def port(self, path: str, value: int) -> None:
        self.int_range(path, value, 1, 65535)

    def image(self, path: str, image: Image) -> None:
        self.require(
            matches(REPOSITORY, image.repository),
            f"{path}.repository",
            image.repository,
            "an image repository like 'ghcr.io/org/name' (lowercase, no tag)",
        )
        self.require(
            matches(TAG, image.tag) and image.tag != "latest",
            f"{path}.tag",
            image.tag,
            "an image tag of [A-Za-z0-9_.-], at most 128 characters, and never 'latest'",
        )
        self.label_value(f"{path}.tag", image.tag)
        if image.digest is not None:
            self.require(
                matches(DIGEST, image.digest),
                f"{path}.digest",
                image.digest,
                "'sha256:' followed by 64 lowercase hex digits",
            )

    def resources(self, path: str, res: Resources) -> None:
        cpu_req = cpu_millis(res.cpu_request)
        self.require(cpu_req is not None, f"{path}.cpu_request", res.cpu_request, CPU_ALLOWED)
        mem_req = memory_bytes(res.memory_request)
        self.require(mem_req is not None, f"{path}.memory_request", res.memory_request, MEMORY_ALLOWED)
        mem_lim = memory_bytes(res.memory_limit)
        self.require(mem_lim is not None, f"{path}.memory_limit", res.memory_limit, MEMORY_ALLOWED)
        assert mem_req is not None and mem_lim is not None and cpu_req is not None
        self.require(
            mem_req <= mem_lim,
            f"{path}.memory_request",
            res.memory_request,
            f"at most the memory limit {res.memory_limit}",
        )
        if res.cpu_limit is not None:
            cpu_lim = cpu_millis(res.cpu_limit)
            self.require(cpu_lim is not None, f"{path}.cpu_limit", res.cpu_limit, CPU_ALLOWED)
            assert cpu_lim is not None
            self.require(
                cpu_req <= cpu_lim,
                f"{path}.cpu_request",
                res.cpu_request,
                f"at most the CPU limit {res.cpu_limit}",
            )

    def autoscaling(self, path: str, hpa: Autoscaling) -> None:
        self.int_range(f"{path}.min_replicas", hpa.min_replicas, 1)
        self.require(
            hpa.max_replicas >= hpa.min_replicas,
            f"{path}.min_replicas",
            hpa.min_replicas,
            f"at most {path}.max_replicas ({hpa.max_replicas})",
        )
        self.int_range(f"{path}.cpu_utilization", hpa.cpu_utilization, 1, 100)
        if hpa.memory_utilization is not None:
            self.int_range(f"{path}.memory_utilization", hpa.memory_utilization, 1, 100)
        self.int_range(
            f"{path}.scale_down_stabilization_seconds", hpa.scale_down_stabilization_seconds, 0, 3600
        )
        self.int_range(f"{path}.scale_down_max_percent", hpa.scale_down_max_percent, 1, 100)
        self.int_range(f"{path}.scale_down_period_seconds", hpa.scale_down_period_seconds, 1, 1800)

    def storage(self, path: str, value: str) -> None:
        self.require(memory_bytes(value) is not None, path, value, MEMORY_ALLOWED)

    def placement(self, path: str, placement: Placement) -> None:
        self.int_range(f"{path}.spot_weight", placement.spot_weight, 1, 100)
        self.labels(f"{path}.node_selector", placement.node_selector)
        for i, t in enumerate(placement.tolerations):
            self.require(matches(QUALIFIED_NAME, t.key), f"{path}.tolerations[{i}].key", t.key, "a taint key")
            if t.operator == "Exists":
                self.require(t.value is None, f"{path}.tolerations[{i}].value", t.value, "None with 'Exists'")
            else:
                self.label_value(f"{path}.tolerations[{i}].value", t.value or "")

    def dns_subdomain(self, path: str, value: str) -> None:
        self.require(
            matches(DNS_SUBDOMAIN, value),
            path,
            value,
            "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253 characters",
        )

    def duration(self, path: str, value: str) -> None:
        self.require(matches(DURATION, value), path, value, "a duration like '30s', '15m' or '1h'")

    def url(self, path: str, value: str, schemes: tuple[str, ...] = ("https",)) -> None:
        parts = urlsplit(value) if isinstance(value, str) else None
        self.require(
            parts is not None and parts.scheme in schemes and bool(parts.hostname) and " " not in value,
            path,
            value,
            f"an absolute {' or '.join(schemes)} URL",
        )

    def labels(self, path: str, labels: Mapping[str, str]) -> None:
        for key, value in labels.items():
            self.require(
                matches(QUALIFIED_NAME, key),
                f"{path}[{key}]",
                key,
                "a label key like 'app.kubernetes.io/name'",
            )
            self.label_value(f"{path}[{key}]", value)

    def cidrs(self, path: str, values: Iterable[str]) -> None:
        """Networks with an explicit prefix length: '10.0.0.0' alone would silently mean one address."""
        for i, cidr in enumerate(values):
            try:
                ok = "/" in cidr and ipaddress.ip_network(cidr) is not None
            except (TypeError, ValueError):
                ok = False
            self.require(ok, f"{path}[{i}]", cidr, "an IPv4 or IPv6 network in CIDR form, like '10.0.0.0/8'")
