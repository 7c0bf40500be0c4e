"""Worker pools, HPA, KEDA, PodDisruptionBudgets, spreading, VPA and spot placement."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Manifest, Output, pod_spec
from vibeyard.config.types import WorkerPool


def _target(obj: Manifest) -> str:
    ref = obj["spec"].get("scaleTargetRef") or obj["spec"]["targetRef"]
    name: str = ref["name"]
    return name


def _min_replicas(out: Output, deployment: Manifest) -> int:
    """The fewest pods a workload may run: what its autoscaler allows, else its replicas."""
    name = deployment["metadata"]["name"]
    for hpa in out.of_kind("HorizontalPodAutoscaler"):
        if _target(hpa) == name:
            return int(hpa["spec"]["minReplicas"])
    for so in out.of_kind("ScaledObject"):
        if _target(so) == name:
            return int(so["spec"]["minReplicaCount"])
    return int(deployment["spec"]["replicas"])


def test_each_pool_has_deployment_budget_and_scaler(out: Output) -> None:
    for pool in out.cfg.workers:
        name = f"vibeyard-worker-{pool.name}"
        assert out.has("Deployment", name) and out.has("PodDisruptionBudget", name), name
        assert out.has("ScaledObject", name) == out.cfg.keda.enabled, name
        assert out.has("Service", name) == (pool.metrics_port is not None), "a Service only for metrics"


def test_prod_runs_a_deployment_per_job_type_on_its_own_queues(outputs: dict[str, Output]) -> None:
    prod = outputs["prod"]
    pools = [
        d
        for d in prod.of_kind("Deployment")
        if d["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
    ]
    queues = {
        d["metadata"]["name"]: {e["name"]: e.get("value") for e in pod_spec(d)["containers"][0]["env"]}[
            "WORKER_QUEUES"
        ]
        for d in pools
    }
    assert queues == {"vibeyard-worker-default": "default", "vibeyard-worker-analysis": "analysis"}
    limits = {
        d["metadata"]["name"]: pod_spec(d)["containers"][0]["resources"]["limits"]["memory"] for d in pools
    }
    assert limits["vibeyard-worker-analysis"] != limits["vibeyard-worker-default"], "sized per job type"


def test_worker_pods_consume_queues_and_shut_down_gracefully(out: Output) -> None:
    for pool in out.cfg.workers:
        deploy = out.get("Deployment", f"vibeyard-worker-{pool.name}")
        spec = pod_spec(deploy)
        (c,) = spec["containers"]
        # worker.close() finishes the active jobs: the grace period covers the longest one.
        assert spec["terminationGracePeriodSeconds"] >= pool.longest_job_seconds + 10
        assert c["command"] == list(pool.command) and c["command"][0] not in ("sh", "/bin/sh", "bash")
        env = {e["name"]: e for e in c["env"]}
        assert env["WORKER_QUEUES"]["value"] == ",".join(pool.queues)
        assert env["WORKER_CONCURRENCY"]["value"] == str(pool.concurrency)
        assert env["REDIS_URL"] and env["DATABASE_URL"]
        assert {"configMapRef": {"name": "vibeyard-config"}} in c["envFrom"]
        assert c["image"] == out.cfg.image.ref
        if pool.health_command is None and pool.metrics_port is None:
            assert "livenessProbe" not in c


def test_autoscaled_deployments_omit_replicas(out: Output) -> None:
    scaled = {_target(o) for o in out.objects if o["kind"] in ("HorizontalPodAutoscaler", "ScaledObject")}
    for deploy in out.of_kind("Deployment"):
        name = deploy["metadata"]["name"]
        assert ("replicas" in deploy["spec"]) == (name not in scaled), f"{out.cfg.name}: {name}"


def test_budgets_never_block_a_drain(out: Output) -> None:
    for pdb in out.of_kind("PodDisruptionBudget"):
        selector = pdb["spec"]["selector"]["matchLabels"]
        (deploy,) = [
            d
            for d in out.of_kind("Deployment")
            if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        floor = _min_replicas(out, deploy)
        spec = pdb["spec"]
        if "maxUnavailable" in spec:
            allowed = spec["maxUnavailable"]
            assert isinstance(allowed, int) and allowed >= 1, pdb["metadata"]["name"]
        else:
            assert spec["minAvailable"] < floor, pdb["metadata"]["name"]
    covered = {p["metadata"]["name"] for p in out.of_kind("PodDisruptionBudget")}
    assert {"vibeyard", *(f"vibeyard-worker-{p.name}" for p in out.cfg.workers)} <= covered


def test_web_hpa_follows_the_design_doc(outputs: dict[str, Output]) -> None:
    hpa = outputs["prod"].get("HorizontalPodAutoscaler", "vibeyard")
    assert hpa["apiVersion"] == "autoscaling/v2"
    spec = hpa["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 10)
    targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in spec["metrics"]}
    assert targets == {"cpu": 70, "memory": 80}
    down = spec["behavior"]["scaleDown"]
    assert down["stabilizationWindowSeconds"] >= 60
    assert all(p["type"] == "Percent" and p["value"] < 100 for p in down["policies"])


def _triggers(out: Output, pool: WorkerPool) -> list[dict[str, Any]]:
    triggers: list[dict[str, Any]] = out.get("ScaledObject", f"vibeyard-worker-{pool.name}")["spec"][
        "triggers"
    ]
    return triggers


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_keda_triggers_name_the_right_keys_and_authenticate(outputs: dict[str, Output], env: str) -> None:
    out = outputs[env]
    auth = out.get("TriggerAuthentication", "vibeyard-redis")
    assert {"parameter": "password", "name": out.cfg.secrets.name, "key": "redis-password"} in auth["spec"][
        "secretTargetRef"
    ]
    for pool in out.cfg.workers:
        so = out.get("ScaledObject", f"vibeyard-worker-{pool.name}")
        assert so["apiVersion"] == "keda.sh/v1alpha1"
        assert (so["spec"]["minReplicaCount"], so["spec"]["maxReplicaCount"]) == (
            pool.min_replicas,
            pool.max_replicas,
        )
        backlog = [f"bull:{q}:wait" for q in pool.queues]
        if pool.prioritized:
            backlog += [f"bull:{q}:prioritized" for q in pool.queues]
        in_flight = [f"bull:{q}:active" for q in pool.queues]
        triggers = {t["metadata"]["listName"]: t for t in _triggers(out, pool)}
        assert sorted(triggers) == sorted(backlog + in_flight)
        for key, t in triggers.items():
            assert t["type"] == "redis" and t["authenticationRef"] == {"name": "vibeyard-redis"}
            # Jobs in flight keep as many replicas as run them; the backlog adds replicas per listLength.
            per_replica = pool.concurrency if key in in_flight else pool.queue_list_length
            assert t["metadata"]["listLength"] == str(per_replica), key
            domain = out.cfg.cluster.cluster_domain
            assert t["metadata"]["address"] == f"redis.{out.cfg.namespace}.svc.{domain}:{out.cfg.redis.port}"
        down = so["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]
        assert down["stabilizationWindowSeconds"] == pool.scale_down.stabilization_seconds
        assert down["policies"] == [
            {
                "periodSeconds": pool.scale_down.period_seconds,
                "type": "Percent",
                "value": pool.scale_down.max_percent,
            }
        ]


def test_analysis_pool_counts_prioritized_and_active_jobs(outputs: dict[str, Output]) -> None:
    prod = outputs["prod"]
    names = {t["metadata"]["listName"] for t in _triggers(prod, prod.cfg.workers[1])}
    assert names == {"bull:analysis:wait", "bull:analysis:prioritized", "bull:analysis:active"}


def test_web_spreads_across_zones_and_nodes(outputs: dict[str, Output]) -> None:
    for env in ("staging", "prod"):
        spread = pod_spec(outputs[env].get("Deployment", "vibeyard"))["topologySpreadConstraints"]
        keys = {s["topologyKey"] for s in spread}
        assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}


def test_vpa_is_recommendation_only_and_prod_only(outputs: dict[str, Output]) -> None:
    assert not outputs["dev"].of_kind("VerticalPodAutoscaler")
    assert not outputs["staging"].of_kind("VerticalPodAutoscaler")
    prod = outputs["prod"]
    vpas = {_target(v): v for v in prod.of_kind("VerticalPodAutoscaler")}
    workloads = {w["metadata"]["name"] for w in prod.workloads() if w["kind"] != "Job"}
    assert set(vpas) == workloads
    for vpa in vpas.values():
        assert vpa["apiVersion"] == "autoscaling.k8s.io/v1"
        assert vpa["spec"]["updatePolicy"]["updateMode"] == "Off"


def _preferred_spot(deploy: Manifest) -> bool:
    """EKS managed node groups (the committed environments' provider) label spot nodes so."""
    affinity = pod_spec(deploy).get("affinity", {}).get("nodeAffinity", {})
    assert "requiredDuringSchedulingIgnoredDuringExecution" not in affinity, "spot must never be required"
    terms = affinity.get("preferredDuringSchedulingIgnoredDuringExecution", [])
    return any(
        e["key"] == "eks.amazonaws.com/capacityType" and e["values"] == ["SPOT"]
        for t in terms
        for e in t["preference"]["matchExpressions"]
    )


def test_spot_is_preferred_for_workers_and_staging(outputs: dict[str, Output]) -> None:
    staging, prod = outputs["staging"], outputs["prod"]
    assert _preferred_spot(staging.get("Deployment", "vibeyard"))
    assert _preferred_spot(staging.get("Deployment", "vibeyard-worker-default"))
    assert _preferred_spot(prod.get("Deployment", "vibeyard-worker-analysis"))
    assert not _preferred_spot(prod.get("Deployment", "vibeyard")), "prod web stays on on-demand capacity"


def test_dev_is_small_and_fixed(outputs: dict[str, Output]) -> None:
    dev = outputs["dev"]
    assert not dev.of_kind("ScaledObject") and not dev.of_kind("HorizontalPodAutoscaler")
    assert dev.get("Deployment", "vibeyard-worker-default")["spec"]["replicas"] == 1


def _most_replicas(out: Output, wl: dict[str, Any]) -> int:
    name = wl["metadata"]["name"]
    for kind in ("HorizontalPodAutoscaler", "ScaledObject"):
        for scaler in out.of_kind(kind):
            if scaler["spec"]["scaleTargetRef"]["name"] == name:
                return int(scaler["spec"].get("maxReplicas") or scaler["spec"]["maxReplicaCount"])
    return int(wl["spec"].get("replicas", 1))


def test_replicated_workloads_spread_over_nodes_and_zones_and_still_schedule_on_one(every: Output) -> None:
    """Two PgBouncers on one node are one PgBouncer; spread everything that has replicas, softly
    over zones (a single-zone cluster must still schedule) and, for PgBouncer, hard over nodes."""
    for wl in every.of_kind("Deployment"):
        name, most = wl["metadata"]["name"], _most_replicas(every, wl)
        spread = {c["topologyKey"]: c for c in pod_spec(wl).get("topologySpreadConstraints", [])}
        if most <= 1 or not (name.startswith("vibeyard") or name == "pgbouncer"):
            continue
        if name == "vibeyard" and not every.cfg.web.spread_across_zones:
            continue
        assert set(spread) == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}, f"{name}: {spread}"
        assert spread["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "ScheduleAnyway", name
        node = spread["kubernetes.io/hostname"]["whenUnsatisfiable"]
        assert node == ("DoNotSchedule" if name == "pgbouncer" else "ScheduleAnyway"), name
        for c in spread.values():
            assert c["labelSelector"]["matchLabels"] == wl["spec"]["selector"]["matchLabels"], name
