"""Schema migrations as a Job that runs before the new version serves traffic.

Under Argo CD it is a ``Sync``-phase hook in its own wave (``gitops/waves.py``):
after the Secret and the data stores are ready, before the app rolls, and the
sync stops if it fails. Its name carries the image tag (and digest): a Job's pod
template is immutable, so each image needs a new Job, and the name says which
release it migrated. It reads the database credentials only, and connects to
the database directly, never through PgBouncer: migration tools take
session-level advisory locks, which transaction pooling breaks. The command runs
under ``migrate.js`` (``node -e``, the app image's own Node), which waits until
PostgreSQL accepts connections and hands the command a DATABASE_URL holding the
password, percent-encoded.
"""

from __future__ import annotations

import re
from pathlib import Path

from cdk8s_plus_28 import k8s
from constructs import Construct

from .. import checkov, kube
from .. import identity as ids
from ..config.types import Image, MigrationConfig, Resources
from ..kube import Site, env, meta, service_account
from ..pod import container, pod_template
from . import APP_USER
from .environment import AppEnvironment

DIGEST_CHARS = 12
LAUNCHER = (Path(__file__).parent / "migrate.js").read_text(encoding="utf-8")


def job_name(prefix: str, image: Image) -> str:
    """``<prefix>-<tag>[-<digest>]``, made a valid name of at most 63 characters.

    The digest's first characters come last and are kept when the tag is cut, so
    re-pushing a tag as a new image (dev's ``local``) still gets a new Job.
    """
    safe = re.sub(r"[^a-z0-9-]+", "-", image.tag.lower()).strip("-")
    suffix = f"-{image.digest.removeprefix('sha256:')[:DIGEST_CHARS]}" if image.digest else ""
    return f"{prefix}-{safe}"[: 63 - len(suffix)].rstrip("-") + suffix


class MigrationJob(Construct):
    """Job ``vibeyard-migrate-<tag>`` and its ServiceAccount ``vibeyard-migrate``.

    :param site: the environment's namespace, instance and pull secrets.
    :param image: the app image, whose tag names the Job.
    :param migration: command, retries and deadlines.
    :param resources: the container's resources (the web tier's: it runs the same app).
    :param environment: the app's variables; only the database's are used, reached directly.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        site: Site,
        image: Image,
        migration: MigrationConfig,
        resources: Resources,
        environment: AppEnvironment,
    ) -> None:
        super().__init__(scope, id)
        self.identity = identity = ids.of(ids.MIGRATION, site.instance, image.tag)
        account = identity.name
        self.name = job_name(account, image)
        service_account(self, account, site.namespace, identity)
        hook = {
            "argocd.argoproj.io/hook": "Sync",
            "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
        }
        skips = checkov.workload_skips(resources, app_image=image)
        k8s.KubeJob(
            self,
            "Job",
            metadata=meta(
                self.name, site.namespace, identity, checkov.as_annotations(skips, hook), runs_image=True
            ),
            spec=k8s.JobSpec(
                backoff_limit=migration.backoff_limit,
                active_deadline_seconds=migration.active_deadline_seconds,
                ttl_seconds_after_finished=migration.ttl_seconds_after_finished,
                template=pod_template(
                    identity=identity,
                    site=site,
                    run_as=APP_USER,
                    restart_policy="Never",
                    containers=[
                        container(
                            name="migrate",
                            image=image,
                            command=["node", "-e", LAUNCHER, *migration.command],
                            env=[
                                # npx and prisma keep caches under HOME; /tmp is the only writable path.
                                env("HOME", "/tmp"),
                                env("DATABASE_WAIT_SECONDS", str(migration.database_wait_seconds)),
                                *environment.migration_variables(),
                            ],
                            resources=kube.resources(resources),
                        )
                    ],
                ),
            ),
        )
