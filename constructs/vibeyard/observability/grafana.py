"""A small typed model of a Grafana dashboard, rendered to deterministic JSON.

Sorted keys, panel ids by position and a fixed ``uid`` per environment, so a
review diff shows a changed query rather than a reshuffled export. Each
environment gets its own ``uid`` and title: with the Grafana sidecar searching
every namespace, staging's and production's copies land in one Grafana, and
equal uids would overwrite each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from .subject import Observed

# Grafana widens this to at least four scrape intervals, so rates stay defined
# at any zoom level; alerts use fixed windows instead.
RATE = "$__rate_interval"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
GRID_COLUMNS = 24
PANEL_WIDTH = 12
PANEL_HEIGHT = 8
MAX_UID = 40  # Grafana rejects longer dashboard uids.

PanelKind = Literal["timeseries", "stat"]
Json = dict[str, Any]


@dataclass(frozen=True)
class Target:
    expr: str
    legend: str

    def to_json(self, ref_id: str) -> Json:
        return {
            "datasource": DATASOURCE,
            "expr": self.expr,
            "legendFormat": self.legend,
            "range": True,
            "refId": ref_id,
        }


@dataclass(frozen=True)
class Panel:
    title: str
    description: str
    targets: tuple[Target, ...]
    unit: str = "short"
    kind: PanelKind = "timeseries"
    # A red threshold line at the value the matching alert fires on.
    alert_threshold: float | None = None
    min: float | None = None
    max: float | None = None

    def to_json(self, panel_id: int, x: int, y: int) -> Json:
        steps: list[Json] = [{"color": "green", "value": None}]
        if self.alert_threshold is not None:
            steps.append({"color": "red", "value": self.alert_threshold})
        defaults: Json = {
            "unit": self.unit,
            "thresholds": {"mode": "absolute", "steps": steps},
        }
        if self.alert_threshold is not None and self.kind == "timeseries":
            defaults["custom"] = {"thresholdsStyle": {"mode": "line"}}
        if self.min is not None:
            defaults["min"] = self.min
        if self.max is not None:
            defaults["max"] = self.max
        return {
            "datasource": DATASOURCE,
            "description": self.description,
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "gridPos": {"h": PANEL_HEIGHT, "w": PANEL_WIDTH, "x": x, "y": y},
            "id": panel_id,
            "targets": [t.to_json(chr(ord("A") + i)) for i, t in enumerate(self.targets)],
            "title": self.title,
            "type": self.kind,
        }


@dataclass(frozen=True)
class Dashboard:
    """``slug`` names the ConfigMap and its data key; it is part of the uid."""

    slug: str
    title: str
    panels: tuple[Panel, ...]
    tags: tuple[str, ...] = field(default=())

    def uid(self, env: str) -> str:
        uid = f"vibeyard-{env}-{self.slug}"
        if len(uid) > MAX_UID:
            raise ValueError(f"dashboard uid {uid!r} is longer than Grafana's {MAX_UID} characters")
        return uid

    def to_json(self, obs: Observed) -> Json:
        per_row = GRID_COLUMNS // PANEL_WIDTH
        panels = [
            panel.to_json(i + 1, (i % per_row) * PANEL_WIDTH, (i // per_row) * PANEL_HEIGHT)
            for i, panel in enumerate(self.panels)
        ]
        return {
            "editable": False,  # the ConfigMap is the source of truth; UI edits would be lost
            "panels": panels,
            "refresh": "1m",
            "schemaVersion": 39,
            "tags": ["vibeyard", obs.name, *self.tags],
            "templating": {
                "list": [
                    {
                        "hide": 0,
                        "label": "Data source",
                        "name": "datasource",
                        "query": "prometheus",
                        "type": "datasource",
                    }
                ]
            },
            "time": {"from": "now-6h", "to": "now"},
            "timezone": "browser",
            "title": f"Vibeyard ({obs.name}) / {self.title}",
            "uid": self.uid(obs.name),
            "version": 1,
        }

    def render(self, obs: Observed) -> str:
        return json.dumps(self.to_json(obs), indent=2, sort_keys=True) + "\n"
