"""The cluster itself refuses an app image that the app's build did not sign.

deploy.yml verifies the release's cosign signature before publishing; this is the same
rule enforced at admission, for whatever reaches the cluster another way (a hand-edited
Deployment, a ``kubectl run``, a compromised pipeline). It renders sigstore
policy-controller ``ClusterImagePolicy`` objects (``policy.sigstore.dev/v1beta1``):

* ``<name>``: images of ``repository`` need a keyless signature whose Fulcio certificate
  names ``signer_identity`` (a regular expression) issued by ``signer_issuer``, and, with
  ``provenance_type``, an attestation of that type by the same signer;
* ``<name>-unsigned-allowed`` (only when ``unsigned_allowed`` is given): the images admitted
  without a signature, with a ``static: pass`` authority. policy-controller denies an image
  that no policy matches (its ``no-match-policy`` defaults to deny), so the digest-pinned
  third-party images (postgres, redis, pgbouncer, the exporters, whose publishers do not sign
  them: docs/security.md) must be listed here, or they stop starting.

policy-controller only admits into namespaces labelled ``NAMESPACE_LABEL``: the
environment's Namespace must carry it, or the policy checks nothing there. Both objects are
cluster-scoped; the Argo CD AppProject must allow the kind, or install them outside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import cdk8s
from constructs import Construct

API_VERSION = "policy.sigstore.dev/v1beta1"
KIND = "ClusterImagePolicy"
NAMESPACE_LABEL = {"policy.sigstore.dev/include": "true"}
PUBLIC_FULCIO = "https://fulcio.sigstore.dev"
PUBLIC_REKOR = "https://rekor.sigstore.dev"
DOCKER_HUB = ("docker.io/", "index.docker.io/")


def repository_globs(repository: str, *, digest_only: bool = False) -> list[str]:
    """policy-controller globs for one repository, in the fully qualified form it matches against.

    ``*`` never crosses a ``/``, so ``repo@*`` / ``repo:*`` match that repository and no other.
    Docker Hub references are matched as ``index.docker.io/...``.
    """
    for prefix in DOCKER_HUB:
        if repository.startswith(prefix):
            repository = DOCKER_HUB[1] + repository.removeprefix(prefix)
    if "/" not in repository.split("@")[0]:
        repository = f"{DOCKER_HUB[1]}library/{repository}"
    return [f"{repository}@*"] if digest_only else [f"{repository}@*", f"{repository}:*"]


class ImagePolicy(Construct):
    """
    :param name: metadata.name of the signature policy; the pass list is ``<name>-unsigned-allowed``.
        Required.
    :param repository: the app image's repository, without tag or digest
        (``ghcr.io/acme/vibeyard``). Required.
    :param signer_identity: regular expression for the certificate identity of the app build's
        workflow (``organisation.py`` ``image_signer_identity``). Required.
    :param signer_issuer: that certificate's OIDC issuer (``image_signer_issuer``). Required.
    :param provenance_type: the attestation type the same signer must also have attached
        (cosign's ``--type``: ``slsaprovenance1``, or a predicate URL); default ``None``,
        signature only.
    :param unsigned_allowed: image globs admitted without a signature; default ``()``. Use
        ``repository_globs(repo, digest_only=True)`` for the digest-pinned third-party images.
    :param mode: ``"enforce"`` refuses the pod, ``"warn"`` admits it with a warning (to roll
        out the policy first); default ``"enforce"``.
    :param fulcio_url: the Fulcio that issued the certificate; default the public
        ``https://fulcio.sigstore.dev``.
    :param rekor_url: the transparency log the signature is in; default the public
        ``https://rekor.sigstore.dev``.
    :param labels: metadata.labels of both objects; default none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        repository: str,
        signer_identity: str,
        signer_issuer: str,
        provenance_type: str | None = None,
        unsigned_allowed: Sequence[str] = (),
        mode: Literal["enforce", "warn"] = "enforce",
        fulcio_url: str = PUBLIC_FULCIO,
        rekor_url: str = PUBLIC_REKOR,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        if "@" in repository or ":" in repository.rsplit("/", 1)[-1]:
            raise ValueError(f"ImagePolicy: repository {repository!r} must name no tag or digest")
        if mode not in ("enforce", "warn"):
            raise ValueError(f"ImagePolicy: mode {mode!r} must be 'enforce' or 'warn'")
        authority: dict[str, Any] = {
            "name": "app-build",
            "keyless": {
                "url": fulcio_url,
                "identities": [{"issuer": signer_issuer, "subjectRegExp": signer_identity}],
            },
            "ctlog": {"url": rekor_url},
        }
        if provenance_type:
            authority["attestations"] = [{"name": "provenance", "predicateType": provenance_type}]
        self.signed = self._policy(
            "Signed",
            name,
            labels,
            {
                "mode": mode,
                "images": [{"glob": g} for g in repository_globs(repository)],
                "authorities": [authority],
            },
        )
        self.unsigned_allowed = None
        if unsigned_allowed:
            self.unsigned_allowed = self._policy(
                "UnsignedAllowed",
                f"{name}-unsigned-allowed",
                labels,
                {
                    "mode": mode,
                    "images": [{"glob": g} for g in sorted(set(unsigned_allowed))],
                    "authorities": [{"name": "pinned", "static": {"action": "pass"}}],
                },
            )

    def _policy(
        self, id: str, name: str, labels: Mapping[str, str] | None, spec: dict[str, Any]
    ) -> cdk8s.ApiObject:
        policy = cdk8s.ApiObject(
            self,
            id,
            api_version=API_VERSION,
            kind=KIND,
            metadata=cdk8s.ApiObjectMetadata(name=name, labels=dict(labels or {})),
        )
        policy.add_json_patch(cdk8s.JsonPatch.add("/spec", spec))
        return policy
