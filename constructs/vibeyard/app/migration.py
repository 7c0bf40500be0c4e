"""Schema migrations as a Job that runs before the new version serves traffic.

Under Argo CD it is a ``PreSync`` hook, so a sync that would roll the Deployment
first runs the migration and stops if it fails. Its name carries the image tag:
a Job's pod template is immutable, so each release needs a new Job, and the name
says which release it migrated. It connects to the database directly, never
through PgBouncer: migration tools take session-level advisory locks, which
transaction pooling breaks.
"""

from __future__ import annotations

import re

from cdk8s_plus_28 import k8s
from constructs import Construct

from .. import checkov, kube
from ..config.types import Image, MigrationConfig, Resources
from ..identity import Identity
from ..kube import meta, service_account
from ..pod import container, pod_template
from . import APP_USER
from .environment import AppEnvironment


def job_name(prefix: str, tag: str) -> str:
    """``<prefix>-<tag>``, made a valid name of at most 63 characters."""
    safe = re.sub(r"[^a-z0-9-]+", "-", tag.lower()).strip("-")
    return f"{prefix}-{safe}"[:63].rstrip("-")


class MigrationJob(Construct):
    """Job ``vibeyard-migrate-<tag>`` and its ServiceAccount ``vibeyard-migrate``.

    :param namespace: the environment's namespace.
    :param identity: the migration's identity; its name is the ServiceAccount's and the Job's prefix.
    :param image: the app image, whose tag names the Job.
    :param migration: command, retries and deadlines.
    :param resources: the container's resources (the web tier's: it runs the same app).
    :param environment: the app's variables; the database is reached directly.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        identity: Identity,
        image: Image,
        migration: MigrationConfig,
        resources: Resources,
        environment: AppEnvironment,
    ) -> None:
        super().__init__(scope, id)
        account = identity.name
        self.name = job_name(account, image.tag)
        self.identity = identity
        service_account(self, account, namespace, identity)
        hook = {
            "argocd.argoproj.io/hook": "PreSync",
            "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
        }
        skips = checkov.workload_skips(resources, app_image=image)
        k8s.KubeJob(
            self,
            "Job",
            metadata=meta(self.name, namespace, identity, checkov.as_annotations(skips, hook)),
            spec=k8s.JobSpec(
                backoff_limit=migration.backoff_limit,
                active_deadline_seconds=migration.active_deadline_seconds,
                ttl_seconds_after_finished=migration.ttl_seconds_after_finished,
                template=pod_template(
                    identity=identity,
                    service_account=account,
                    run_as=APP_USER,
                    restart_policy="Never",
                    containers=[
                        container(
                            name="migrate",
                            image=image,
                            command=list(migration.command),
                            env_from=environment.env_from(),
                            env=environment.variables(direct_database=True),
                            resources=kube.resources(resources),
                        )
                    ],
                ),
            ),
        )
