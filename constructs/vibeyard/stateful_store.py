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

from .identity import Identity
from .kube import label_selector, meta, quantity, service, service_account
from .security import pod_security

DATA_VOLUME = "data"


class StatefulStore(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        namespace: str,
        identity: Identity,
        port: int,
        port_name: str,
        container: k8s.Container,
        uid: int,
        gid: int,
        storage_size: str,
        storage_class: str | None,
        termination_grace_seconds: int,
        volumes: Sequence[k8s.Volume],
        pod_annotations: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        service_account(self, name, namespace, identity)
        headless = f"{name}-headless"
        for service_id, service_name in (("Headless", headless), ("Service", name)):
            service(
                self,
                service_id,
                name=service_name,
                namespace=namespace,
                identity=identity,
                port=port,
                port_name=port_name,
                headless=service_name == headless,
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
            metadata=meta(name, namespace, identity),
            spec=k8s.StatefulSetSpec(
                service_name=headless,
                replicas=1,
                selector=label_selector(identity),
                persistent_volume_claim_retention_policy=k8s.StatefulSetPersistentVolumeClaimRetentionPolicy(
                    when_deleted="Retain", when_scaled="Retain"
                ),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(
                        labels=identity.labels, annotations=dict(pod_annotations) if pod_annotations else None
                    ),
                    spec=k8s.PodSpec(
                        service_account_name=name,
                        automount_service_account_token=False,
                        security_context=pod_security(uid, gid, gid),
                        termination_grace_period_seconds=termination_grace_seconds,
                        containers=[container],
                        volumes=list(volumes),
                    ),
                ),
                volume_claim_templates=[claim],
            ),
        )
