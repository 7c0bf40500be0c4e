"""The Next.js web tier: ServiceAccount, Deployment and Service ``vibeyard``.

Zero-downtime is the point of most choices here. ``maxUnavailable: 0`` keeps full
capacity during a rollout; the startup probe lets a cold Next.js boot without the
liveness probe killing it; the preStop sleep keeps the pod serving while the
endpoint removal reaches every ingress-nginx replica, and the grace period leaves
room for in-flight requests after that. When an HPA owns the replica count the
Deployment omits ``replicas`` so an apply or GitOps sync never resets it.
"""

from __future__ import annotations

from typing import Literal

from cdk8s_plus_28 import k8s
from constructs import Construct

from .. import checkov, kube
from .. import identity as ids
from ..app import APP_USER
from ..app.environment import AppEnvironment
from ..config.types import Image, WebConfig
from ..kube import (
    Metrics,
    Site,
    deployment,
    empty_dir,
    int_or_str,
    service,
    service_account,
)
from ..pod import container, pod_template
from ..scaling.placement import spread

PORT_NAME = "http"


def _http_probe(path: str, period: int, timeout: int, failures: int) -> k8s.Probe:
    return k8s.Probe(
        http_get=k8s.HttpGetAction(path=path, port=int_or_str(PORT_NAME)),
        period_seconds=period,
        timeout_seconds=timeout,
        failure_threshold=failures,
    )


class WebApp(Construct):
    """ServiceAccount, Deployment and Service ``vibeyard``.

    :param site: the environment's namespace, instance, pull secrets and spot nodes.
    :param image: the app image.
    :param web: replicas, resources, probes' path, port, shutdown timing and placement.
    :param autoscaled: an autoscaler owns the replica count, so ``replicas`` is omitted.
    :param environment: the app's variables.
    """

    kind: Literal["Deployment"] = "Deployment"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        site: Site,
        image: Image,
        web: WebConfig,
        autoscaled: bool,
        environment: AppEnvironment,
    ) -> None:
        super().__init__(scope, id)
        self.identity = identity = ids.of(ids.WEB, site.instance, image.tag)
        self.name = name = identity.name
        self.port = web.port
        self.port_name = PORT_NAME
        self.metrics = Metrics(PORT_NAME, web.port, web.metrics_path)
        ns = site.namespace
        service_account(self, name, ns, identity)
        skips = checkov.workload_skips(web.resources, app_image=image)
        template = pod_template(
            identity=identity,
            site=site,
            run_as=APP_USER,
            termination_grace_period_seconds=web.termination_grace_seconds,
            topology_spread_constraints=spread(identity) if web.spread_across_zones else None,
            placement=web.placement,
            containers=[self._app(image, web, environment)],
            volumes=[empty_dir("next-cache", "1Gi")],
        )
        deployment(
            self,
            namespace=ns,
            identity=identity,
            replicas=None if autoscaled else web.replicas,
            template=template,
            annotations=checkov.as_annotations(skips),
            progress_deadline_seconds=600,
        )
        service(self, "Service", name=name, namespace=ns, identity=identity, ports={PORT_NAME: web.port})

    def _app(self, image: Image, web: WebConfig, environment: AppEnvironment) -> k8s.Container:
        return container(
            name=self.name,
            image=image,
            ports=[k8s.ContainerPort(name=PORT_NAME, container_port=web.port, protocol="TCP")],
            env_from=environment.env_from(),
            env=environment.web_variables(),
            resources=kube.resources(web.resources),
            startup_probe=_http_probe(web.health_path, period=5, timeout=3, failures=30),
            readiness_probe=_http_probe(web.health_path, period=10, timeout=3, failures=3),
            liveness_probe=_http_probe(web.health_path, period=20, timeout=5, failures=3),
            lifecycle=k8s.Lifecycle(
                pre_stop=k8s.LifecycleHandler(
                    exec=k8s.ExecAction(command=["sleep", str(web.pre_stop_sleep_seconds)])
                )
            ),
            mounts=[k8s.VolumeMount(name="next-cache", mount_path="/app/.next/cache")],
        )
