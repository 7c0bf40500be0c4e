"""The rules config fields are declared with: each says what is allowed, or nothing.

A rule takes a field's value (already of the field's type) and returns None when
the value is fine, or the words for what is allowed, which end the error line
``<env>: <path>=<value> is invalid: <allowed>``. Every value the API server, a
controller or kubectl would refuse later is refused here, at synth. Patterns are
applied with ``fullmatch``: ``re.match`` with ``$`` would accept "prod\\n".
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .quantity import CPU_ALLOWED, MEMORY_ALLOWED, cpu_millis, memory_bytes

Rule = Callable[[Any], str | None]

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"(?=.{1,253}\Z)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
HOSTNAME = re.compile(
    r"(?=.{1,253}\Z)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+"
)
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
# A label or annotation key: an optional DNS-subdomain prefix and a name of at most 63 characters.
QUALIFIED_NAME = re.compile(
    r"(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"(?=[A-Za-z0-9][-A-Za-z0-9_.]{0,62}\Z)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
)
REPOSITORY = re.compile(
    r"(?:[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}")
DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
DURATION = re.compile(r"[1-9][0-9]*(s|m|h)")
QUEUE = re.compile(r"[A-Za-z0-9_.-]+")
# What the kubelet accepts as an environment variable name (and a shell can read).
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A PostgreSQL identifier we can write unquoted in a URL and in pgbouncer.ini.
SQL_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# nginx's size syntax for client_max_body_size.
NGINX_SIZE = re.compile(r"[0-9]+[kKmMgG]?")
PATH = re.compile(r"/[^\s]*")


def matches(pattern: re.Pattern[str], allowed: str) -> Rule:
    return lambda value: None if pattern.fullmatch(value) else allowed


def between(low: int, high: int | None = None) -> Rule:
    allowed = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"
    return lambda value: None if value >= low and (high is None or value <= high) else allowed


def fraction(value: float) -> str | None:
    return None if 0 < value < 1 else "a fraction between 0 and 1"


def positive(value: float) -> str | None:
    return None if value > 0 else "a positive number"


def dns_label(max_len: int = 63) -> Rule:
    allowed = f"a DNS-1123 label: lowercase letters, digits and '-', at most {max_len} characters"
    return lambda value: None if DNS_LABEL.fullmatch(value) and len(value) <= max_len else allowed


def optional(rule: Rule) -> Rule:
    return lambda value: None if value is None else rule(value)


def each(rule: Rule) -> Rule:
    """Every item of a tuple; the first one that fails is named."""

    def check(values: Iterable[Any]) -> str | None:
        for item in values:
            why = rule(item)
            if why:
                return f"{why} ({item!r} is not)"
        return None

    return check


def non_empty(allowed: str) -> Rule:
    return lambda value: None if len(value) > 0 else allowed


def all_of(*rules: Rule) -> Rule:
    def check(value: Any) -> str | None:
        return next((why for rule in rules if (why := rule(value))), None)

    return check


port = between(1, 65535)
percent = between(1, 100)
dns_subdomain = matches(
    DNS_SUBDOMAIN, "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253 characters"
)
hostname = matches(HOSTNAME, "a fully qualified DNS name in lowercase, like 'vibeyard.example.com'")
label_value = matches(
    LABEL_VALUE, "a label value: at most 63 characters, alphanumeric at both ends, '-_.' inside"
)
label_value_63 = all_of(
    label_value,
    lambda v: None if len(v) <= 63 else "a label value: at most 63 characters, alphanumeric at both ends",
)
duration = matches(DURATION, "a duration like '30s', '15m' or '1h'")
path = matches(PATH, "a path starting with '/'")
repository = matches(REPOSITORY, "an image repository like 'ghcr.io/org/name' (lowercase, no tag)")
digest = optional(matches(DIGEST, "'sha256:' followed by 64 lowercase hex digits"))
sql_name = matches(SQL_NAME, "a lowercase PostgreSQL name of letters, digits and '_'")
nginx_size = matches(NGINX_SIZE, "an nginx size like '10m', '512k' or '1g'")
exec_command = all_of(
    non_empty("a non-empty exec-form command"),
    lambda cmd: (
        None
        if cmd[0] not in ("sh", "/bin/sh", "bash", "/bin/bash")
        else "an exec-form command without a shell wrapper, so SIGTERM reaches the process"
    ),
)


def image_tag(value: str) -> str | None:
    # A label value too: the tag becomes the app.kubernetes.io/version label.
    if TAG.fullmatch(value) and LABEL_VALUE.fullmatch(value) and value != "latest":
        return None
    return "an image tag of [A-Za-z0-9_.-], alphanumeric at both ends, at most 63 characters, never 'latest'"


def cpu(value: str) -> str | None:
    return None if cpu_millis(value) is not None else CPU_ALLOWED


def memory(value: str) -> str | None:
    return None if memory_bytes(value) is not None else MEMORY_ALLOWED


def labels(value: Mapping[str, str]) -> str | None:
    for key, item in value.items():
        if not QUALIFIED_NAME.fullmatch(key):
            return f"label keys like 'app.kubernetes.io/name' ({key!r} is not)"
        if label_value_63(item):
            return f"label values of at most 63 characters, alphanumeric at both ends ({item!r} is not)"
    return None


def cidr(value: str) -> str | None:
    """A network with an explicit prefix length: '10.0.0.0' alone would silently mean one address."""
    try:
        ok = "/" in value and ipaddress.ip_network(value) is not None
    except ValueError:
        ok = False
    return None if ok else "an IPv4 or IPv6 network in CIDR form, like '10.0.0.0/8'"


def regex(value: str) -> str | None:
    try:
        re.compile(value)
    except re.error as err:
        return f"a regular expression ({err})"
    return None


def url(*schemes: str) -> Rule:
    allowed = f"an absolute {' or '.join(schemes)} URL"

    def check(value: str) -> str | None:
        try:
            parts = urlsplit(value)
            ok = parts.scheme in schemes and parts.hostname and " " not in value
        except ValueError:  # 'https://[bad': urlsplit refuses a broken IPv6 literal
            ok = False
        return None if ok else allowed

    return check
