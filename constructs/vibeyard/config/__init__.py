"""Typed per-environment configuration, its validation, and the topology derived from it."""

from __future__ import annotations

from .base import ConfigError
from .environments import ENVIRONMENTS
from .topology import Topology
from .types import EnvConfig
from .validate import validate, validate_together

__all__ = ["ENVIRONMENTS", "ConfigError", "EnvConfig", "Topology", "validate", "validate_together"]
