"""The design values that must not change silently: one table, written out, never read from the config.

Other tests check relations (the HPA's bounds are the config's, the grace period covers
the longest job); a wrong default passes all of them, because they compute their
expectation from the same config the code reads. This table is the other half: the
values the design doc (``deployment-strategy.md``'s values.yaml and HPA), the app
contract and the corrections in docs/design-corrections.md settled on, as the rendered
output must show them. tests/test_design_values.py checks each row against the session's
render; no other test hard-codes them. An intentional change edits its row here, once.

A row names where to look: an environment (``prod`` renders the design doc's production
values and, in its ``default`` worker pool, every worker default), a variant of
tests/variants.py, or ``ALL`` for every environment that renders the object;
``Kind/name`` (``*`` for every object of the kind); and a path into the object: ``a.b``,
``["key.with/dots"]``, ``[field.path=value]`` for the element of a list whose field has
that value. A ``Setting`` is a directive of a config file held in the value (``key value``
or ``key = value``; the last one wins, as in Redis and PgBouncer).
"""

from __future__ import annotations

from dataclasses import dataclass

ALL = "*"


@dataclass(frozen=True)
class Setting:
    """A directive of the config file held in the value."""

    key: str
    value: str


@dataclass(frozen=True)
class Pin:
    env: str
    obj: str
    path: str
    value: object

    def __str__(self) -> str:
        setting = f":{self.value.key}" if isinstance(self.value, Setting) else ""
        return f"{self.env}:{self.obj}:{self.path}{setting}"


WEB = "Deployment/vibeyard"
WEB_CONTAINER = "spec.template.spec.containers[name=vibeyard]"
POOL = "Deployment/vibeyard-worker-default"
POOL_CONTAINER = "spec.template.spec.containers[name=worker]"
ANNOTATIONS = "metadata.annotations"

PINS: tuple[Pin, ...] = (
    # --- The web tier in production: the design doc's values.yaml and HPA manifest. ---------
    # Three replicas keep one per zone; ten bound the cost and what the quota must hold.
    Pin("prod", "HorizontalPodAutoscaler/vibeyard", "spec.minReplicas", 3),
    Pin("prod", "HorizontalPodAutoscaler/vibeyard", "spec.maxReplicas", 10),
    # Scale out at 70% of the CPU request and 80% of the memory request (the HPA manifest).
    Pin(
        "prod",
        "HorizontalPodAutoscaler/vibeyard",
        "spec.metrics[resource.name=cpu].resource.target.averageUtilization",
        70,
    ),
    Pin(
        "prod",
        "HorizontalPodAutoscaler/vibeyard",
        "spec.metrics[resource.name=memory].resource.target.averageUtilization",
        80,
    ),
    # Scale-in damping (design-corrections 16): five quiet minutes, then at most half the
    # pods a minute, so a short dip does not remove capacity needed a minute later.
    Pin(
        "prod", "HorizontalPodAutoscaler/vibeyard", "spec.behavior.scaleDown.stabilizationWindowSeconds", 300
    ),
    Pin(
        "prod", "HorizontalPodAutoscaler/vibeyard", "spec.behavior.scaleDown.policies[type=Percent].value", 50
    ),
    Pin(
        "prod",
        "HorizontalPodAutoscaler/vibeyard",
        "spec.behavior.scaleDown.policies[type=Percent].periodSeconds",
        60,
    ),
    # values.yaml resources: what the HPA's percentages and the quota are computed from.
    Pin("prod", WEB, f"{WEB_CONTAINER}.resources.requests.cpu", "250m"),
    Pin("prod", WEB, f"{WEB_CONTAINER}.resources.requests.memory", "512Mi"),
    Pin("prod", WEB, f"{WEB_CONTAINER}.resources.limits.cpu", "1000m"),
    Pin("prod", WEB, f"{WEB_CONTAINER}.resources.limits.memory", "1Gi"),
    # Sentry is the design doc's error tracking: production reports to it.
    Pin("prod", WEB, f"{WEB_CONTAINER}.env[name=SENTRY_DSN].valueFrom.secretKeyRef.key", "sentry-dsn"),
    # The drain (app contract): 10 s of preStop sleep while the edge drops the
    # endpoint, then 30 s for the app to finish its requests, inside a 45 s grace period.
    Pin(ALL, WEB, f"{WEB_CONTAINER}.lifecycle.preStop.exec.command", ["sleep", "10"]),
    Pin(ALL, WEB, "spec.template.spec.terminationGracePeriodSeconds", 45),
    # --- The edge (design-corrections 25: Gateway API, not the retired ingress-nginx). ---
    # Envoy Gateway's GatewayClass; the NetworkPolicies admit its proxies.
    Pin(ALL, "Gateway/vibeyard", "spec.gatewayClassName", "eg"),
    # values.yaml: a publicly trusted certificate in production.
    Pin("prod", "Gateway/vibeyard", f'{ANNOTATIONS}["cert-manager.io/cluster-issuer"]', "letsencrypt-prod"),
    # The metrics path is not routed; everything else reaches the app, for at most 60 s.
    Pin(
        ALL,
        "HTTPRoute/vibeyard",
        "spec.rules",
        [
            {"matches": [{"path": {"type": "PathPrefix", "value": "/api/metrics"}}]},
            {
                "backendRefs": [{"name": "vibeyard", "port": 3000}],
                "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                "timeouts": {"request": "60s"},
            },
        ],
    ),
    # Plain HTTP is redirected, permanently: NextAuth's session cookie must never travel in clear.
    Pin(
        ALL,
        "HTTPRoute/vibeyard-https-redirect",
        "spec.rules",
        [
            {
                "filters": [
                    {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
                ]
            }
        ],
    ),
    # The Ingress kept for clusters not yet moved (the ``ingress-nginx`` variant): the design's
    # class and issuer. ssl-redirect's value is the string "true"; "false" switches it off.
    Pin("ingress-nginx", "Ingress/vibeyard", "spec.ingressClassName", "nginx"),
    Pin(
        "ingress-nginx",
        "Ingress/vibeyard",
        f'{ANNOTATIONS}["cert-manager.io/cluster-issuer"]',
        "letsencrypt-prod",
    ),
    Pin(
        "ingress-nginx",
        "Ingress/vibeyard",
        f'{ANNOTATIONS}["nginx.ingress.kubernetes.io/ssl-redirect"]',
        "true",
    ),
    # Uploads up to 10 MB (ingress-nginx's default, 1m, refuses them with a 413).
    Pin(
        "ingress-nginx",
        "Ingress/vibeyard",
        f'{ANNOTATIONS}["nginx.ingress.kubernetes.io/proxy-body-size"]',
        "10m",
    ),
    # --- Worker defaults: prod's default pool sets nothing but its name and queue. ----------
    # values.yaml worker.resources; five jobs at once fit in them.
    Pin("prod", POOL, f"{POOL_CONTAINER}.resources.requests.cpu", "100m"),
    Pin("prod", POOL, f"{POOL_CONTAINER}.resources.requests.memory", "256Mi"),
    Pin("prod", POOL, f"{POOL_CONTAINER}.resources.limits.cpu", "500m"),
    Pin("prod", POOL, f"{POOL_CONTAINER}.resources.limits.memory", "512Mi"),
    Pin("prod", POOL, f"{POOL_CONTAINER}.env[name=WORKER_CONCURRENCY].value", "5"),
    # The app contract's metrics port, which the ServiceMonitor and NetworkPolicy follow.
    Pin("prod", POOL, f"{POOL_CONTAINER}.ports[name=metrics].containerPort", 9464),
    # A job may run 90 s; worker.close() waits for it, plus 30 s to close the connections.
    Pin("prod", POOL, "spec.template.spec.terminationGracePeriodSeconds", 120),
    # KEDA: one to ten pods, one more per 20 waiting jobs.
    Pin("prod", "ScaledObject/vibeyard-worker-default", "spec.minReplicaCount", 1),
    Pin("prod", "ScaledObject/vibeyard-worker-default", "spec.maxReplicaCount", 10),
    Pin(
        "prod",
        "ScaledObject/vibeyard-worker-default",
        "spec.triggers[metadata.listName=bull:default:wait].metadata.listLength",
        "20",
    ),
    # --- Data stores. ----------------------------------------------------------------------
    # BullMQ's jobs are Redis keys: an evicting policy deletes queued jobs silently
    # (design-corrections 7), and a restart without the append-only file loses them.
    Pin(ALL, "ConfigMap/redis-config", 'data["redis.conf"]', Setting("maxmemory-policy", "noeviction")),
    Pin(ALL, "ConfigMap/redis-config", 'data["redis.conf"]', Setting("appendonly", "yes")),
    Pin(ALL, "ConfigMap/redis-config", 'data["redis.conf"]', Setting("appendfsync", "everysec")),
    # The cache is the Redis that must evict, least recently used first.
    Pin(
        ALL, "ConfigMap/redis-cache-config", 'data["redis.conf"]', Setting("maxmemory-policy", "allkeys-lru")
    ),
    # values.yaml redis.master.persistence.size.
    Pin(
        "prod",
        "StatefulSet/redis",
        "spec.volumeClaimTemplates[metadata.name=data].spec.resources.requests.storage",
        "8Gi",
    ),
    # values.yaml postgresql.auth: the user and database every URL and the managed
    # database's setup name; a rename strands the data.
    Pin(
        ALL,
        "StatefulSet/postgres",
        "spec.template.spec.containers[name=postgres].env[name=POSTGRES_USER].value",
        "vibeyard",
    ),
    Pin(
        ALL,
        "StatefulSet/postgres",
        "spec.template.spec.containers[name=postgres].env[name=POSTGRES_DB].value",
        "vibeyard",
    ),
    # Prisma's ?pgbouncer=true assumes transaction pooling; 20 server connections per pool
    # and 500 clients are what the managed database's max_connections was sized for.
    Pin(ALL, "ConfigMap/pgbouncer-config", 'data["pgbouncer.ini"]', Setting("pool_mode", "transaction")),
    Pin("prod", "ConfigMap/pgbouncer-config", 'data["pgbouncer.ini"]', Setting("default_pool_size", "20")),
    Pin("prod", "ConfigMap/pgbouncer-config", 'data["pgbouncer.ini"]', Setting("max_client_conn", "500")),
    # --- Availability and isolation. ------------------------------------------------------
    # A drain evicts one pod at a time, and can always evict one (never a blocked drain).
    Pin(ALL, "PodDisruptionBudget/*", "spec.maxUnavailable", 1),
    # The namespace enforces Pod Security "restricted" (design-corrections 13).
    Pin(ALL, "Namespace/*", 'metadata.labels["pod-security.kubernetes.io/enforce"]', "restricted"),
)
