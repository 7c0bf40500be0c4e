"""Who an object belongs to, expressed as the recommended ``app.kubernetes.io`` labels.

Selectors are immutable on Deployments and StatefulSets, so they use only the
three labels that never change for a workload (name, instance, component). The
``version`` label moves with every release, so it stays out of every selector and
is carried only by what runs the image (the workload and its pods): a release
then changes only the objects whose content depends on it, and a reviewer sees
what it does. cdk8s's ``cdk8s.io/metadata.addr`` is never used because it
changes whenever a construct is moved in the tree.
"""

from __future__ import annotations

from dataclasses import dataclass

PART_OF = "vibeyard"
MANAGED_BY = "cdk8s"


@dataclass(frozen=True)
class Identity:
    name: str
    component: str
    instance: str
    version: str | None = None

    @property
    def selector(self) -> dict[str, str]:
        return {
            "app.kubernetes.io/name": self.name,
            "app.kubernetes.io/instance": self.instance,
            "app.kubernetes.io/component": self.component,
        }

    @property
    def labels(self) -> dict[str, str]:
        """Every object's labels; no version, which would make a release touch them all."""
        return {
            **self.selector,
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/managed-by": MANAGED_BY,
        }

    @property
    def running_labels(self) -> dict[str, str]:
        """The labels of what runs the image (a workload and its pods): with its version."""
        return {**self.labels, **({"app.kubernetes.io/version": self.version} if self.version else {})}


def instance_for(namespace: str) -> str:
    """The release name, as Helm would set it: one per environment."""
    return f"vibeyard-{namespace}"


# The workloads of one environment. NetworkPolicies, ServiceMonitors and PDBs
# select by these, so each is defined once here.
WEB = ("vibeyard", "web")
POSTGRES = ("postgres", "database")
REDIS = ("redis", "queue")
CACHE = ("redis-cache", "cache")
PGBOUNCER = ("pgbouncer", "connection-pooler")
MIGRATION = ("vibeyard-migrate", "migration")
WORKER_COMPONENT = "worker"
PLATFORM = ("vibeyard", "platform")


def worker_name(pool: str) -> str:
    return f"vibeyard-worker-{pool}"


def of(kind: tuple[str, str], instance: str, version: str | None = None) -> Identity:
    return Identity(kind[0], kind[1], instance, version)


def worker(pool: str, instance: str, version: str | None = None) -> Identity:
    return Identity(worker_name(pool), WORKER_COMPONENT, instance, version)
