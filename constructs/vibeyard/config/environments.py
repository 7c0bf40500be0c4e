"""The three environments, as a production baseline plus per-environment overrides.

``BASE`` carries the design doc's ``values.yaml`` numbers (3 replicas, 250m/512Mi
requests, 1000m/1Gi limits, HPA 3-10, nginx, letsencrypt-prod). Dev and staging are
``dataclasses.replace`` overlays, the counterpart of ``values-<env>.yaml``: an
override names only what differs, so the diff between environments stays readable.
Organisation-specific values come from ``organisation.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from .organisation import ORG
from .types import (
    Autoscaling,
    CacheConfig,
    ClusterConfig,
    EnvConfig,
    Exporters,
    GitOpsConfig,
    Image,
    IngressConfig,
    KedaConfig,
    ManagedEgress,
    MigrationConfig,
    MonitoringConfig,
    NetworkConfig,
    PgBouncerConfig,
    Placement,
    PostgresConfig,
    QuotaConfig,
    RedisConfig,
    Resources,
    SecretsConfig,
    WebConfig,
    WorkerPool,
)

APP_IMAGE = Image(repository=f"{ORG.registry}/vibeyard", tag="1.0.0")

# Third-party images are pinned by digest: a re-pushed tag can never change what runs.
POSTGRES_IMAGE = Image(
    repository="docker.io/library/postgres",
    tag="15.18-alpine",
    digest="sha256:3d0f7584ed7d04e27fa050d6683a74746608faf21f202be78460d679cc56461f",
)
REDIS_IMAGE = Image(
    repository="docker.io/library/redis",
    tag="7.4.11-alpine",
    digest="sha256:ff02b58f971e7d7d156a1267e283fcbbeee91773b6aa36c49dac28ecfe28eadf",
)
PGBOUNCER_IMAGE = Image(
    repository="docker.io/edoburu/pgbouncer",
    tag="v1.25.2-p0",
    digest="sha256:7d7a27d9e90985cab5cf42256f5c13a3120baa4b055b69df37beb272b89b2340",
)
EXPORTERS = Exporters(
    redis=Image(
        repository="docker.io/oliver006/redis_exporter",
        tag="v1.90.0",
        digest="sha256:a129504e65b87c54f79bc92f1afc403475e8ff646a3d7512de469904ceddf986",
    ),
    postgres=Image(
        repository="quay.io/prometheuscommunity/postgres-exporter",
        tag="v0.20.1",
        digest="sha256:ac5ec343104fae0e2d84a27bb8d69b38430a11910c5382cad85d478d2bab713e",
    ),
    pgbouncer=Image(
        repository="quay.io/prometheuscommunity/pgbouncer-exporter",
        tag="v0.12.1",
        digest="sha256:30f31b6c2efdad3647f8182cc7c1a3a19e42bae5d17387694989f969371c230d",
    ),
)

DEFAULT_POOL = WorkerPool(name="default", queues=("default",))

BASE = EnvConfig(
    name="prod",
    namespace="production",
    app_url=f"https://{ORG.base_domain}",
    image=APP_IMAGE,
    ingress=IngressConfig(
        host=ORG.base_domain,
        tls_secret="vibeyard-tls",
        cluster_issuer=ORG.cluster_issuer,
    ),
    web=WebConfig(
        replicas=3,
        resources=Resources(
            cpu_request="250m", memory_request="512Mi", cpu_limit="1000m", memory_limit="1Gi"
        ),
        autoscaling=Autoscaling(enabled=True, min_replicas=3, max_replicas=10),
    ),
    workers=(DEFAULT_POOL,),
    postgres=PostgresConfig(mode="managed", image=POSTGRES_IMAGE, uid=70),
    pgbouncer=PgBouncerConfig(enabled=False, image=PGBOUNCER_IMAGE),
    redis=RedisConfig(mode="in-cluster", image=REDIS_IMAGE),
    cache=CacheConfig(),
    secrets=SecretsConfig(provider="sealed", sealed_file="secrets/prod.sealed.yaml"),
    cluster=ClusterConfig(provider="eks"),
    keda=KedaConfig(enabled=True),
    vpa_enabled=True,
    network=NetworkConfig(),
    quota=QuotaConfig(
        cpu_requests="16", memory_requests="32Gi", memory_limits="64Gi", pods=80, storage="50Gi"
    ),
    monitoring=MonitoringConfig(enabled=True, exporters=EXPORTERS),
    migration=MigrationConfig(enabled=True),
    gitops=GitOpsConfig(repo_url=ORG.repo_url, auto_sync=False, destinations=ORG.clusters["prod"]),
    image_pull_secrets=ORG.image_pull_secrets,
)

PROD = replace(
    BASE,
    postgres=replace(BASE.postgres, host=ORG.managed_database_host, read_replica=True),
    pgbouncer=replace(BASE.pgbouncer, enabled=True, server_tls_sslmode="require"),
    workers=(
        DEFAULT_POOL,
        WorkerPool(
            name="analysis",
            queues=("analysis",),
            replicas=2,
            min_replicas=1,
            max_replicas=8,
            concurrency=2,
            resources=Resources(
                cpu_request="250m", memory_request="512Mi", cpu_limit="1000m", memory_limit="1Gi"
            ),
            longest_job_seconds=570,
            # Analysis jobs are idempotent: a job lost with a reclaimed spot node is
            # re-queued by BullMQ's stalled-job check and runs again from the start.
            interruptible=True,
            queue_list_length=5,
            prioritized=True,
            placement=Placement(prefer_spot=True),
        ),
    ),
    network=replace(
        BASE.network,
        managed_egress=(ManagedEgress(cidr=ORG.managed_database_cidr, port=BASE.postgres.port),),
    ),
)

STAGING = replace(
    BASE,
    name="staging",
    namespace="staging",
    app_url=f"https://staging.{ORG.base_domain}",
    ingress=replace(BASE.ingress, host=f"staging.{ORG.base_domain}", tls_secret="vibeyard-staging-tls"),
    web=replace(
        BASE.web,
        replicas=2,
        resources=Resources(
            cpu_request="100m", memory_request="256Mi", cpu_limit="500m", memory_limit="512Mi"
        ),
        autoscaling=Autoscaling(enabled=True, min_replicas=2, max_replicas=4),
        placement=Placement(prefer_spot=True),
    ),
    workers=(replace(DEFAULT_POOL, max_replicas=4, placement=Placement(prefer_spot=True)),),
    postgres=replace(BASE.postgres, mode="in-cluster", storage_size="10Gi"),
    pgbouncer=replace(BASE.pgbouncer, enabled=True, replicas=1),
    redis=replace(BASE.redis, storage_size="4Gi"),
    secrets=replace(BASE.secrets, sealed_file="secrets/staging.sealed.yaml"),
    vpa_enabled=False,
    quota=QuotaConfig(cpu_requests="4", memory_requests="8Gi", memory_limits="16Gi", pods=30, storage="50Gi"),
    gitops=GitOpsConfig(
        repo_url=ORG.repo_url, target_revision="develop", auto_sync=True, destinations=ORG.clusters["staging"]
    ),
)

DEV = replace(
    BASE,
    name="dev",
    namespace="dev",
    app_url="https://vibeyard.dev.localhost",
    # Built and loaded into kind/minikube by hand (docs/operations.md): never pulled.
    image=Image(repository="vibeyard", tag="local", pull_policy="Never"),
    ingress=IngressConfig(
        host="vibeyard.dev.localhost",
        tls_secret="vibeyard-dev-tls",
        cluster_issuer="selfsigned",
        acme_http01=False,
    ),
    web=replace(
        BASE.web,
        replicas=1,
        resources=Resources(cpu_request="100m", memory_request="256Mi", memory_limit="512Mi"),
        autoscaling=Autoscaling(enabled=False, min_replicas=1, max_replicas=1),
        spread_across_zones=False,
    ),
    workers=(replace(DEFAULT_POOL, replicas=1, min_replicas=1, max_replicas=1, metrics_port=None),),
    postgres=replace(
        BASE.postgres,
        mode="in-cluster",
        storage_size="1Gi",
        resources=Resources(cpu_request="100m", memory_request="256Mi", memory_limit="512Mi"),
    ),
    redis=replace(
        BASE.redis,
        storage_size="1Gi",
        resources=Resources(cpu_request="50m", memory_request="128Mi", memory_limit="256Mi"),
    ),
    cache=CacheConfig(resources=Resources(cpu_request="25m", memory_request="64Mi", memory_limit="128Mi")),
    secrets=SecretsConfig(provider="existing"),
    keda=KedaConfig(enabled=False),
    vpa_enabled=False,
    quota=QuotaConfig(cpu_requests="2", memory_requests="4Gi", memory_limits="8Gi", pods=20, storage="20Gi"),
    monitoring=replace(BASE.monitoring, enabled=False),
    log_level="debug",
    sentry_enabled=False,
    # Local only: applied with kubectl from dist/dev, no Argo CD Application.
    gitops=None,
)

ENVIRONMENTS: Mapping[str, EnvConfig] = {"dev": DEV, "staging": STAGING, "prod": PROD}
