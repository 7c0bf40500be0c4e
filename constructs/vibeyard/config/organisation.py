"""Everything specific to the organisation that runs Vibeyard, in one place.

Forking this repository for another organisation means editing this file (and
the sealed secrets): the GitOps repository, the image registry, the public
hosts, the certificate issuer, the pull secrets of a private registry, and the
clusters Argo CD deploys each environment to. ``environments/`` reads these;
nothing else in the code names them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .platform import IN_CLUSTER, Destination


@dataclass(frozen=True)
class Organisation:
    repo_url: str
    registry: str
    base_domain: str
    cluster_issuer: str
    # Secrets of type kubernetes.io/dockerconfigjson in each namespace, for a private registry.
    image_pull_secrets: tuple[str, ...]
    # Argo CD runs in the management cluster; each environment lists the clusters it deploys to
    # (several for more regions: one Application each).
    clusters: dict[str, tuple[Destination, ...]]
    # Managed PostgreSQL (RDS / Cloud SQL / Azure): the endpoint PgBouncer connects to, and the
    # address range NetworkPolicy lets the pods reach.
    managed_database_host: str
    managed_database_cidr: str
    # The app image's keyless cosign signature (docs/security.md, "Image supply chain"): a regular
    # expression for the Fulcio certificate identity of the app repository's build workflow
    # (its URL @ the ref it ran on), and the OIDC issuer that vouched for that workflow.
    image_signer_identity: str
    image_signer_issuer: str
    # GitHub users or teams whose review a change to what guards production needs (.github/CODEOWNERS).
    code_owners: tuple[str, ...]


ORG = Organisation(
    repo_url="https://github.com/your-org/vibeyard-deploy.git",
    registry="ghcr.io/your-org",
    base_domain="vibeyard.example.com",
    cluster_issuer="letsencrypt-prod",
    image_pull_secrets=(),
    clusters={
        "staging": (IN_CLUSTER,),
        "prod": (Destination(name="prod-eu-west-1", server="https://prod-eu-west-1.k8s.example.com"),),
    },
    managed_database_host="vibeyard-prod.cluster-abc123.eu-west-1.rds.amazonaws.com",
    managed_database_cidr="10.20.0.0/16",
    image_signer_identity=(
        r"^https://github\.com/your-org/vibeyard/\.github/workflows/build\.yml@refs/(heads/main|tags/v[0-9.]+)$"
    ),
    image_signer_issuer="https://token.actions.githubusercontent.com",
    code_owners=("@your-org/platform",),
)
