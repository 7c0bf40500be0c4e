"""The branches the committed environments never take, each checked for meaning.

The variants are defined in tests/variants.py (one synthesis each per session).
Every assertion here names the branch it guards; the snapshots at the end show
everything else a variant changes, for review.
"""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from tests.support import Manifest, Output, pod_spec
from tests.variants import VARIANTS
from vibeyard.config import Topology

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")


def env_of(workload: Manifest, container: int = 0) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in pod_spec(workload)["containers"][container].get("env", [])}


def spot_terms(workload: Manifest) -> list[dict[str, Any]]:
    affinity = pod_spec(workload).get("affinity", {}).get("nodeAffinity", {})
    return [
        e
        for t in affinity.get("preferredDuringSchedulingIgnoredDuringExecution", [])
        for e in t["preference"]["matchExpressions"]
    ]


def dns_targets(out: Output) -> list[dict[str, Any]]:
    (rule,) = out.get("NetworkPolicy", "allow-dns")["spec"]["egress"]
    assert rule["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    targets: list[dict[str, Any]] = rule["to"]
    return targets


# --- keda-off: CPU autoscalers, no VPA, no read replica, GKE, a private registry, Reloader ----------


def test_without_keda_pools_that_can_scale_get_a_cpu_hpa(variants: dict[str, Output]) -> None:
    out = variants["keda-off"]
    assert not out.of_kind("ScaledObject") and not out.of_kind("TriggerAuthentication")
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h["spec"] for h in out.of_kind("HorizontalPodAutoscaler")}
    for pool in out.cfg.workers:
        name = f"vibeyard-worker-{pool.name}"
        deploy = out.get("Deployment", name)
        if pool.name == "fixed":
            assert name not in hpas and deploy["spec"]["replicas"] == 2, "a pool with min == max is fixed"
            continue
        spec = hpas[name]
        assert "replicas" not in deploy["spec"], "the HPA owns the replica count"
        assert (spec["minReplicas"], spec["maxReplicas"]) == (max(pool.min_replicas, 1), pool.max_replicas)
        assert [m["resource"]["name"] for m in spec["metrics"]] == ["cpu"]
        down = spec["behavior"]["scaleDown"]
        assert down["stabilizationWindowSeconds"] == pool.scale_down.stabilization_seconds
        assert down["policies"][0]["value"] == pool.scale_down.max_percent
    assert not out.has("NetworkPolicy", "redis-from-clients") or all(
        "namespaceSelector" not in peer
        for peer in out.get("NetworkPolicy", "redis-from-clients")["spec"]["ingress"][0]["from"]
    ), "no KEDA operator to let in"


def test_without_vpa_or_read_replica_nothing_of_them_renders(variants: dict[str, Output]) -> None:
    out = variants["keda-off"]
    assert not out.of_kind("VerticalPodAutoscaler")
    assert "DATABASE_READ_URL" not in env_of(out.get("Deployment", "vibeyard"))
    assert "database-read-url" not in Topology.of(out.cfg).secret_keys
    assert "database-read-url" in Topology.of(variants["pinned"].cfg).secret_keys


def test_gke_spot_uses_gke_labels_and_tolerates_its_taint(variants: dict[str, Output]) -> None:
    analysis = variants["keda-off"].get("Deployment", "vibeyard-worker-analysis")
    assert spot_terms(analysis) == [
        {"key": "cloud.google.com/gke-spot", "operator": "In", "values": ["true"]}
    ]
    assert pod_spec(analysis)["tolerations"] == [
        {"effect": "NoSchedule", "key": "cloud.google.com/gke-spot", "operator": "Equal", "value": "true"}
    ]


def test_gke_cloud_dns_opens_only_port_53_of_the_metadata_address(variants: dict[str, Output]) -> None:
    assert dns_targets(variants["keda-off"]) == [{"ipBlock": {"cidr": "169.254.169.254/32"}}]


def test_a_private_registry_reaches_every_pod(variants: dict[str, Output]) -> None:
    out = variants["keda-off"]
    for wl in out.workloads():
        assert pod_spec(wl)["imagePullSecrets"] == [{"name": "registry-credentials"}], wl["metadata"]["name"]


def test_reloader_annotates_every_workload_that_reads_the_secret(variants: dict[str, Output]) -> None:
    out = variants["keda-off"]
    annotated = [w for w in out.objects if w["kind"] in ("Deployment", "StatefulSet")]
    assert annotated
    for wl in annotated:
        notes = wl["metadata"]["annotations"]
        assert notes["secret.reloader.stakater.com/reload"] == "vibeyard-secrets", wl["metadata"]["name"]
    assert all(
        "secret.reloader.stakater.com/reload" not in o["metadata"].get("annotations", {})
        for o in variants["pinned"].objects
    )


# --- managed-redis: a managed Redis with KEDA, External Secrets, AKS, NodeLocal DNS ---------------------


def test_a_managed_redis_is_reached_through_the_secret(variants: dict[str, Output]) -> None:
    out = variants["managed-redis"]
    assert not out.has("StatefulSet", "redis") and not out.has("Deployment", "redis-cache")
    web = env_of(out.get("Deployment", "vibeyard"))
    assert web["REDIS_URL"]["valueFrom"]["secretKeyRef"]["key"] == "redis-url"
    assert web["REDIS_CACHE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "redis-cache-url"
    assert "REDIS_PASSWORD" not in web
    refs = out.get("TriggerAuthentication", "vibeyard-redis")["spec"]["secretTargetRef"]
    assert {r["parameter"]: r["key"] for r in refs} == {
        "password": "redis-password",
        "address": "redis-address",
    }
    for so in out.of_kind("ScaledObject"):
        assert all("address" not in t["metadata"] for t in so["spec"]["triggers"]), (
            "the address is in the Secret"
        )
    assert not out.has("NetworkPolicy", "redis-from-clients")
    egress = out.get("NetworkPolicy", "vibeyard-to-datastores")["spec"]["egress"]
    assert [r["ports"][0]["port"] for r in egress] == [out.cfg.pgbouncer.port, 5432], "pgbouncer, managed db"


def test_external_secrets_provide_exactly_the_topologys_keys(variants: dict[str, Output]) -> None:
    out = variants["managed-redis"]
    assert not out.of_kind("SealedSecret")
    (es,) = out.of_kind("ExternalSecret")
    assert es["apiVersion"] == "external-secrets.io/v1"
    assert es["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "vault-backend"}
    keys = [d["secretKey"] for d in es["spec"]["data"]]
    assert keys == list(Topology.of(out.cfg).secret_keys)
    assert {"redis-url", "redis-cache-url", "redis-address"} <= set(keys)
    assert all(
        d["remoteRef"] == {"key": "vibeyard/prod", "property": d["secretKey"]} for d in es["spec"]["data"]
    )
    web = pod_spec(out.get("Deployment", "vibeyard"))
    assert (
        "checksum/secret"
        not in out.get("Deployment", "vibeyard")["spec"]["template"]["metadata"]["annotations"]
    )
    assert web["containers"][0]["env"]


def test_aks_spot_uses_the_scale_set_priority_and_its_taint(variants: dict[str, Output]) -> None:
    analysis = variants["managed-redis"].get("Deployment", "vibeyard-worker-analysis")
    key = "kubernetes.azure.com/scalesetpriority"
    assert spot_terms(analysis) == [{"key": key, "operator": "In", "values": ["spot"]}]
    assert {"effect": "NoSchedule", "key": key, "operator": "Equal", "value": "spot"} in pod_spec(analysis)[
        "tolerations"
    ]


def test_node_local_dns_allows_the_cache_and_the_configured_service_ip(variants: dict[str, Output]) -> None:
    assert dns_targets(variants["managed-redis"]) == [
        {"ipBlock": {"cidr": "169.254.20.10/32"}},
        {"ipBlock": {"cidr": "172.20.0.10/32"}},
    ]


# --- bare: no monitoring, no PgBouncer, no spot; VPA, storage classes, explicit DNS, existing Secret ----


def test_without_monitoring_nothing_scrapes_and_no_exporter_runs(variants: dict[str, Output]) -> None:
    out = variants["bare"]
    for kind in ("ServiceMonitor", "PrometheusRule"):
        assert not out.of_kind(kind), kind
    assert not [c for c in out.of_kind("ConfigMap") if "grafana_dashboard" in c["metadata"]["labels"]]
    assert not [p for p in out.of_kind("NetworkPolicy") if p["metadata"]["name"].endswith("-from-monitoring")]
    for wl in out.workloads():
        assert [c["name"] for c in pod_spec(wl)["containers"]] != ["exporter"]
        assert all(c["name"] != "exporter" for c in pod_spec(wl)["containers"]), wl["metadata"]["name"]


def test_without_pgbouncer_the_app_connects_to_postgres_directly(variants: dict[str, Output]) -> None:
    out = variants["bare"]
    assert not out.has("Deployment", "pgbouncer") and not out.has("ConfigMap", "pgbouncer-config")
    web = env_of(out.get("Deployment", "vibeyard"))
    assert web["DATABASE_URL"]["value"] == "postgresql://vibeyard@postgres:5432/vibeyard"
    clients = out.get("NetworkPolicy", "postgres-from-clients")["spec"]["ingress"][0]["from"]
    names = [c["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") for c in clients]
    assert "pgbouncer" not in names and "vibeyard-migrate" in names


def test_vpa_covers_every_long_running_workload_where_on(variants: dict[str, Output]) -> None:
    out = variants["bare"]
    targets = {v["spec"]["targetRef"]["name"] for v in out.of_kind("VerticalPodAutoscaler")}
    assert targets == {w["metadata"]["name"] for w in out.workloads() if w["kind"] != "Job"}


def test_a_storage_class_reaches_every_volume_claim(variants: dict[str, Output]) -> None:
    out = variants["bare"]
    for name in ("postgres", "redis"):
        (claim,) = out.get("StatefulSet", name)["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["storageClassName"] == "gp3-encrypted", name


def test_without_spot_nothing_prefers_or_tolerates_it(variants: dict[str, Output]) -> None:
    for wl in variants["bare"].workloads():
        assert not spot_terms(wl) and "tolerations" not in pod_spec(wl), wl["metadata"]["name"]


def test_the_cluster_domain_reaches_every_fully_qualified_name(variants: dict[str, Output]) -> None:
    out = variants["bare"]
    assert out.of_kind("ScaledObject")
    for so in out.of_kind("ScaledObject"):
        for trigger in so["spec"]["triggers"]:
            assert trigger["metadata"]["address"] == "redis.staging.svc.k8s.internal:6379"
    assert "cluster.local" not in "".join(out.files.values())


def test_explicit_dns_addresses_are_the_only_resolvers(variants: dict[str, Output]) -> None:
    assert dns_targets(variants["bare"]) == [{"ipBlock": {"cidr": "10.100.0.10/32"}}]


def test_an_existing_secret_renders_nothing_and_no_checksum(variants: dict[str, Output]) -> None:
    out = variants["bare"]
    assert not [o for o in out.objects if o["kind"] in ("Secret", "SealedSecret", "ExternalSecret")]
    for wl in out.workloads():
        notes = wl["spec"]["template"]["metadata"].get("annotations", {})
        assert "checksum/secret" not in notes, wl["metadata"]["name"]


# --- pinned: a release with a digest ---------------------------------------------------------------


def test_a_digest_pins_every_app_container_and_lifts_the_tag_only_skips(variants: dict[str, Output]) -> None:
    out = variants["pinned"]
    digest = out.cfg.image.digest
    assert digest
    for wl in out.workloads():
        for c in pod_spec(wl)["containers"]:
            if c["image"].startswith(out.cfg.image.repository):
                assert c["image"] == f"{out.cfg.image.repository}:2.3.4@{digest}"
        skipped = {
            v.split("=")[0]
            for k, v in wl["metadata"].get("annotations", {}).items()
            if k.startswith("checkov")
        }
        assert not skipped & {"CKV_K8S_43", "CKV_K8S_15"}, wl["metadata"]["name"]
    (job,) = out.of_kind("Job")
    assert job["metadata"]["name"] == "vibeyard-migrate-2-3-4-abababababab"


@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_snapshot(variants: dict[str, Output], snapshot: SnapshotAssertion, name: str) -> None:
    assert variants[name].files == snapshot
