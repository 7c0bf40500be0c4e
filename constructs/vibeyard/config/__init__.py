"""Typed per-environment configuration, its validation, and the topology derived from it."""

from __future__ import annotations

from .fields import ConfigError
from .load import all_configs, check, load, load_all, names
from .topology import Topology
from .types import EnvConfig

__all__ = ["ConfigError", "EnvConfig", "Topology", "all_configs", "check", "load", "load_all", "names"]
