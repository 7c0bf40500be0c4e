"""A single-replica data store: ServiceAccount, Services and a StatefulSet with one volume.

Postgres and Redis differ only in their container; everything that keeps their
data safe is shared here. The volume comes from a volumeClaimTemplate that is
retained when the StatefulSet is deleted or scaled down, so data outlives the
manifest. The headless Service gives the pod its stable DNS name; the ordinary
Service is what clients use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdk8s_plus_28 import k8s
from constructs import Construct

from .. import checkov
from ..config.types import Resources
from ..identity import Identity
from ..kube import label_selector, meta, quantity, service, service_account
from ..pod import RunAs, pod_template
from .exporter import PORT_NAME as METRICS_PORT
from .exporter import Exporter

DATA_VOLUME = "data"


class StatefulStore(Construct):
    """
    :param namespace: the environment's namespace.
    :param identity: the store's identity; its name names the StatefulSet and Service.
    :param port: the Service port, which targets the container port named ``port_name``.
    :param port_name: the container port's name.
    :param container: the store's container, built with ``pod.container``; it mounts ``data``.
    :param resources: the container's resources, for its checkov skips.
    :param run_as: the image's own user.
    :param storage_size: the data volume's size.
    :param storage_class: the data volume's StorageClass; None means the cluster default.
    :param grace_seconds: time to shut down cleanly.
    :param tmp_size: size limit of ``/tmp``.
    :param volumes: volumes besides the data volume and ``/tmp``. Default none.
    :param checksums: ``checksum/<what>`` pod annotations. Default none.
    :param exporter: a metrics sidecar; its port is added to the Service. Default none.
    :param pull_secrets: ``imagePullSecrets`` for a private registry. Default none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        identity: Identity,
        port: int,
        port_name: str,
        container: k8s.Container,
        resources: Resources,
        run_as: RunAs,
        storage_size: str,
        storage_class: str | None,
        grace_seconds: int,
        tmp_size: str,
        volumes: Sequence[k8s.Volume] = (),
        checksums: Mapping[str, str] | None = None,
        exporter: Exporter | None = None,
        pull_secrets: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        name = identity.name
        service_account(self, name, namespace, identity)
        headless = f"{name}-headless"
        # Only the client Service carries the metrics port, so a ServiceMonitor that
        # selects both Services by label still scrapes each pod once.
        metrics = {METRICS_PORT: exporter.port} if exporter is not None else {}
        service(
            self,
            "Headless",
            name=headless,
            namespace=namespace,
            identity=identity,
            ports={port_name: port},
            headless=True,
        )
        service(
            self,
            "Service",
            name=name,
            namespace=namespace,
            identity=identity,
            ports={port_name: port, **metrics},
        )
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
                name, namespace, identity, checkov.as_annotations(checkov.workload_skips(resources))
            ),
            spec=k8s.StatefulSetSpec(
                service_name=headless,
                replicas=1,
                selector=label_selector(identity),
                persistent_volume_claim_retention_policy=k8s.StatefulSetPersistentVolumeClaimRetentionPolicy(
                    when_deleted="Retain", when_scaled="Retain"
                ),
                template=pod_template(
                    identity=identity,
                    service_account=name,
                    run_as=run_as,
                    grace_seconds=grace_seconds,
                    containers=[container, *([exporter.container] if exporter is not None else [])],
                    tmp_size=tmp_size,
                    volumes=volumes,
                    checksums=checksums,
                    pull_secrets=pull_secrets,
                ),
                volume_claim_templates=[claim],
            ),
        )
