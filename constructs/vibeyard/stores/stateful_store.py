"""A single-replica data store: ServiceAccount, Services and a StatefulSet with one volume.

Postgres and Redis differ only in their pod; everything that keeps their data
safe is shared here. The volume comes from a volumeClaimTemplate that is
retained when the StatefulSet is deleted or scaled down, so data outlives the
manifest. The headless Service gives the pod its stable DNS name; the ordinary
Service is what clients use.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s
from constructs import Construct

from .. import checkov
from ..config.types import Resources
from ..identity import Identity
from ..kube import Metrics, Site, label_selector, meta, quantity, service, service_account

DATA_VOLUME = "data"


class StatefulStore(Construct):
    """StatefulSet ``<name>`` with Services ``<name>`` and ``<name>-headless``.

    :param site: the environment's namespace.
    :param identity: the store's identity; its name names the objects.
    :param port: ``(name, number)`` of the port clients use.
    :param template: the pod, built with ``pod.pod_template``; its server mounts ``data``.
    :param resources: the server's resources, for its checkov skips.
    :param storage_size: the data volume's size.
    :param storage_class: the data volume's StorageClass; None means the cluster default.
    :param metrics: the exporter's port, on the client Service only. Default none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        site: Site,
        identity: Identity,
        port: tuple[str, int],
        template: k8s.PodTemplateSpec,
        resources: Resources,
        storage_size: str,
        storage_class: str | None,
        metrics: Metrics | None = None,
    ) -> None:
        super().__init__(scope, id)
        name, ns = identity.name, site.namespace
        service_account(self, name, ns, identity)
        headless = f"{name}-headless"
        service(
            self,
            "Headless",
            name=headless,
            namespace=ns,
            identity=identity,
            ports=dict([port]),
            headless=True,
        )
        # Only the client Service carries the metrics port, so a ServiceMonitor that
        # selects both Services by label still scrapes each pod once.
        extra = {metrics.port_name: metrics.port} if metrics else {}
        service(self, "Service", name=name, namespace=ns, identity=identity, ports={**dict([port]), **extra})
        claim = k8s.KubePersistentVolumeClaimProps(
            metadata=k8s.ObjectMeta(name=DATA_VOLUME, labels=identity.selector),
            spec=k8s.PersistentVolumeClaimSpec(
                access_modes=["ReadWriteOnce"],
                storage_class_name=storage_class,
                resources=k8s.ResourceRequirements(requests={"storage": quantity(storage_size)}),
            ),
        )
        k8s.KubeStatefulSet(
            self,
            "StatefulSet",
            metadata=meta(
                name, ns, identity, checkov.as_annotations(checkov.workload_skips(resources)), runs_image=True
            ),
            spec=k8s.StatefulSetSpec(
                service_name=headless,
                replicas=1,
                selector=label_selector(identity),
                persistent_volume_claim_retention_policy=k8s.StatefulSetPersistentVolumeClaimRetentionPolicy(
                    when_deleted="Retain", when_scaled="Retain"
                ),
                template=template,
                volume_claim_templates=[claim],
            ),
        )
