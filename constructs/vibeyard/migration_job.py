"""Schema migrations as a Job that runs before the new version serves traffic.

Under Argo CD it is a ``PreSync`` hook, so a sync that would roll the Deployment
first runs the migration and stops if it fails. Its name carries the image tag:
a Job's pod template is immutable, so each release needs a new Job, and the name
says which release it migrated. It connects to the database directly, never
through PgBouncer: migration tools take session-level advisory locks, which
transaction pooling breaks. With plain kubectl, apply it on its own and wait
(README "Deploy").
"""

from __future__ import annotations

import re

from cdk8s_plus_28 import k8s
from constructs import Construct

from .app_env import app_env, config_from
from .config.types import EnvConfig
from .identity import MIGRATION, Identity
from .kube import empty_dir, meta, resources, service_account
from .security import container_security, pod_security

APP_UID = 1001
SERVICE_ACCOUNT = MIGRATION[0]


def job_name(tag: str) -> str:
    """``vibeyard-migrate-<tag>``, made a valid name of at most 63 characters."""
    safe = re.sub(r"[^a-z0-9-]+", "-", tag.lower()).strip("-")
    return f"{SERVICE_ACCOUNT}-{safe}"[:63].rstrip("-")


class MigrationJob(Construct):
    def __init__(self, scope: Construct, id: str, *, cfg: EnvConfig, identity: Identity) -> None:
        super().__init__(scope, id)
        ns = cfg.namespace
        mig = cfg.migration
        self.name = job_name(cfg.image.tag)
        service_account(self, SERVICE_ACCOUNT, ns, identity)
        hook = {
            "argocd.argoproj.io/hook": "PreSync",
            "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
        }
        k8s.KubeJob(
            self,
            "Job",
            metadata=meta(self.name, ns, identity, hook),
            spec=k8s.JobSpec(
                backoff_limit=mig.backoff_limit,
                active_deadline_seconds=mig.active_deadline_seconds,
                ttl_seconds_after_finished=mig.ttl_seconds_after_finished,
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels=identity.labels),
                    spec=k8s.PodSpec(
                        restart_policy="Never",
                        service_account_name=SERVICE_ACCOUNT,
                        automount_service_account_token=False,
                        security_context=pod_security(APP_UID, APP_UID, APP_UID),
                        containers=[
                            k8s.Container(
                                name="migrate",
                                image=cfg.image.ref,
                                image_pull_policy=cfg.image.pull_policy,
                                command=list(mig.command),
                                env_from=config_from(),
                                env=app_env(cfg, direct_database=True),
                                resources=resources(cfg.web.resources),
                                security_context=container_security(),
                                volume_mounts=[k8s.VolumeMount(name="tmp", mount_path="/tmp")],
                            )
                        ],
                        volumes=[empty_dir("tmp", "256Mi")],
                    ),
                ),
            ),
        )
