"""The Next.js web tier: ServiceAccount, Deployment and Service ``vibeyard``.

Zero-downtime is the point of most choices here. ``maxUnavailable: 0`` keeps full
capacity during a rollout; the startup probe lets a cold Next.js boot without the
liveness probe killing it; the preStop sleep keeps the pod serving while the
endpoint removal reaches every ingress-nginx replica, and the grace period leaves
room for in-flight requests after that. When an HPA owns the replica count the
Deployment omits ``replicas`` so an apply or GitOps sync never resets it.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s
from constructs import Construct

from . import placement
from .app_env import app_env, config_from
from .config.types import EnvConfig
from .identity import Identity
from .kube import (
    empty_dir,
    int_or_str,
    label_selector,
    meta,
    resources,
    service,
    service_account,
    surge_without_downtime,
)
from .security import container_security, pod_security

APP_UID = 1001
PORT_NAME = "http"


def _http_probe(path: str, period: int, timeout: int, failures: int) -> k8s.Probe:
    return k8s.Probe(
        http_get=k8s.HttpGetAction(path=path, port=int_or_str(PORT_NAME)),
        period_seconds=period,
        timeout_seconds=timeout,
        failure_threshold=failures,
    )


def _spread(identity: Identity) -> list[k8s.TopologySpreadConstraint]:
    return [
        k8s.TopologySpreadConstraint(
            topology_key=key,
            max_skew=1,
            when_unsatisfiable="ScheduleAnyway",
            label_selector=label_selector(identity),
        )
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]


class WebApp(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cfg: EnvConfig,
        identity: Identity,
        config_checksum: str,
        name: str = "vibeyard",
    ) -> None:
        super().__init__(scope, id)
        web = cfg.web
        ns = cfg.namespace
        self.name = name
        self.port = web.port
        self.port_name = PORT_NAME
        self.identity = identity
        service_account(self, name, ns, identity)
        container = k8s.Container(
            name=name,
            image=cfg.image.ref,
            image_pull_policy=cfg.image.pull_policy,
            ports=[k8s.ContainerPort(name=PORT_NAME, container_port=web.port, protocol="TCP")],
            env_from=config_from(),
            env=app_env(cfg),
            resources=resources(web.resources),
            startup_probe=_http_probe(web.health_path, period=5, timeout=3, failures=30),
            readiness_probe=_http_probe(web.health_path, period=10, timeout=3, failures=3),
            liveness_probe=_http_probe(web.health_path, period=20, timeout=5, failures=3),
            lifecycle=k8s.Lifecycle(
                pre_stop=k8s.LifecycleHandler(
                    exec=k8s.ExecAction(command=["sleep", str(web.pre_stop_sleep_seconds)])
                )
            ),
            security_context=container_security(),
            volume_mounts=[
                k8s.VolumeMount(name="next-cache", mount_path="/app/.next/cache"),
                k8s.VolumeMount(name="tmp", mount_path="/tmp"),
            ],
        )
        pod = k8s.PodSpec(
            service_account_name=name,
            automount_service_account_token=False,
            security_context=pod_security(APP_UID, APP_UID, APP_UID),
            termination_grace_period_seconds=web.termination_grace_seconds,
            topology_spread_constraints=_spread(identity) if web.spread_across_zones else None,
            affinity=placement.affinity(web.placement),
            node_selector=placement.node_selector(web.placement),
            tolerations=placement.tolerations(web.placement),
            containers=[container],
            volumes=[empty_dir("next-cache", "1Gi"), empty_dir("tmp", "256Mi")],
        )
        k8s.KubeDeployment(
            self,
            "Deployment",
            metadata=meta(name, ns, identity),
            spec=k8s.DeploymentSpec(
                replicas=None if web.autoscaling.enabled else web.replicas,
                revision_history_limit=10,
                progress_deadline_seconds=600,
                selector=label_selector(identity),
                strategy=surge_without_downtime(),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(
                        labels=identity.labels,
                        annotations={"checksum/config": config_checksum},
                    ),
                    spec=pod,
                ),
            ),
        )
        service(
            self, "Service", name=name, namespace=ns, identity=identity, port=web.port, port_name=PORT_NAME
        )
