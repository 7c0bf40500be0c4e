"""The in-cluster image policy (``vibeyard.platform.image_policy``).

An environment renders it with ``signatures.admission`` (the ``pinned`` variant does);
the construct is also rendered alone here, with the organisation's real signer settings
and the images ``dist/`` really runs:

* the signature policy matches every app image each environment renders, and nothing else;
* the pass list admits exactly the digest-pinned third-party images, never the app image,
  and never a third-party image by tag;
* provenance, mode and the Fulcio/Rekor endpoints come out as the props say;
* the output validates against the upstream CRD in ``crds/`` (strictly, as the other custom
  resources do);
* wired into an environment, it covers exactly what that environment runs, its Namespace
  opts in, and the AppProject allows the kind only where an environment renders it.

Globs are matched with policy-controller's documented rule (``*`` is any run of characters
other than ``/``, ``**`` any run at all, the whole reference must match).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import cdk8s
import jsonschema
import pytest
import yaml

from tests.support import Output
from tests.validators.crd_schema import CRD_DIR, schemas
from tests.validators.manifests import load_yaml
from vibeyard.config.organisation import ORG
from vibeyard.platform.image_policy import API_VERSION, KIND, NAMESPACE_LABEL, ImagePolicy, repository_globs

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
CRD = CRD_DIR / "policy.sigstore.dev_clusterimagepolicies.yaml"
ENVIRONMENTS: dict[str, Any] = json.loads((DIST / "environments.json").read_text(encoding="utf-8"))
APP_COMPONENTS = {"web", "worker", "migration"}


def glob_matches(glob: str, image: str) -> bool:
    pattern = re.escape(glob).replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
    return re.fullmatch(pattern, image) is not None


def qualified(image: str) -> str:
    """A reference as policy-controller matches it: Docker Hub as index.docker.io, no tag beside a digest."""
    if image.startswith("docker.io/"):
        image = "index.docker.io/" + image.removeprefix("docker.io/")
    name, at, digest = image.partition("@")
    if at:
        slash = name.rfind("/")
        colon = name.rfind(":")
        name = name[:colon] if colon > slash else name
    return f"{name}{at}{digest}"


@functools.cache
def images(env: str) -> dict[str, frozenset[str]]:
    """'app' and 'other' images of the containers dist/<env> renders (read once per run)."""
    found: dict[str, set[str]] = {"app": set(), "other": set()}
    for path in sorted((DIST / env).glob("*.yaml")):
        doc = load_yaml(path.read_text("utf-8"))
        spec = ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
        component = (doc.get("metadata", {}).get("labels") or {}).get("app.kubernetes.io/component")
        for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
            found["app" if component in APP_COMPONENTS else "other"].add(container["image"])
    return {kind: frozenset(found[kind]) for kind in found}


def repository(image: str) -> str:
    name = image.split("@", maxsplit=1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    return name[:colon] if colon > slash else name


def render(**props: Any) -> list[dict[str, Any]]:
    app = cdk8s.App()
    chart = cdk8s.Chart(app, "policy")
    ImagePolicy(chart, "ImagePolicy", **props)
    docs: list[dict[str, Any]] = chart.to_json()
    return docs


DEPLOYED = tuple(sorted(name for name, spec in ENVIRONMENTS.items() if spec.get("gitops")))


def props_for(env: str, **extra: Any) -> dict[str, Any]:
    (app,) = {repository(i) for i in images(env)["app"]}
    pinned = [
        g for i in sorted(images(env)["other"]) for g in repository_globs(repository(i), digest_only=True)
    ]
    return {
        "name": f"vibeyard-{ENVIRONMENTS[env]['namespace']}",
        "repository": app,
        "signer_identity": ORG.image_signer_identity,
        "signer_issuer": ORG.image_signer_issuer,
        "unsigned_allowed": pinned,
        "labels": {"app.kubernetes.io/part-of": "vibeyard"},
        **extra,
    }


@pytest.mark.parametrize("env", DEPLOYED)
def test_the_signature_policy_covers_every_app_image_and_only_those(env: str) -> None:
    signed, allowed = render(**props_for(env))
    assert (
        (signed["apiVersion"], signed["kind"])
        == (API_VERSION, KIND)
        == (allowed["apiVersion"], allowed["kind"])
    )
    assert "namespace" not in signed["metadata"], "a ClusterImagePolicy is cluster-scoped"
    globs = [i["glob"] for i in signed["spec"]["images"]]
    digest = "sha256:" + "ab" * 32
    for image in images(env)["app"]:
        for ref in (image, f"{repository(image)}@{digest}"):
            assert any(glob_matches(g, qualified(ref)) for g in globs), f"{ref} escapes the policy {globs}"
    for image in images(env)["other"]:
        assert not any(glob_matches(g, qualified(image)) for g in globs), (
            f"{image} must not need our signature"
        )
    assert not any(
        glob_matches(g, qualified(f"{repository(image)}-evil:1"))
        for g in globs
        for image in images(env)["app"]
    )
    (authority,) = signed["spec"]["authorities"]
    assert authority["keyless"]["identities"] == [
        {"issuer": ORG.image_signer_issuer, "subjectRegExp": ORG.image_signer_identity}
    ]
    assert authority["keyless"]["url"] == "https://fulcio.sigstore.dev"
    assert authority["ctlog"] == {"url": "https://rekor.sigstore.dev"}
    assert "attestations" not in authority, "no provenance unless asked for"
    assert signed["spec"]["mode"] == "enforce"


@pytest.mark.parametrize("env", DEPLOYED)
def test_the_pass_list_admits_the_pinned_third_party_images_by_digest_only(env: str) -> None:
    _, allowed = render(**props_for(env))
    assert allowed["metadata"]["name"] == f"vibeyard-{ENVIRONMENTS[env]['namespace']}-unsigned-allowed"
    assert allowed["spec"]["authorities"] == [{"name": "pinned", "static": {"action": "pass"}}]
    globs = [i["glob"] for i in allowed["spec"]["images"]]
    for image in images(env)["other"]:
        assert "@sha256:" in image, f"{image}: third-party images are pinned by digest"
        assert any(glob_matches(g, qualified(image)) for g in globs), f"{image} would be refused: {globs}"
        by_tag = image.split("@")[0]
        assert not any(glob_matches(g, qualified(by_tag)) for g in globs), f"{by_tag} passes by tag"
    for image in images(env)["app"]:
        assert not any(glob_matches(g, qualified(image)) for g in globs), (
            "the app image must never pass unsigned"
        )


def test_provenance_mode_and_endpoints_follow_the_props() -> None:
    env = DEPLOYED[0]
    (signed,) = render(
        **props_for(
            env,
            unsigned_allowed=(),
            provenance_type="slsaprovenance1",
            mode="warn",
            fulcio_url="https://fulcio.internal",
            rekor_url="https://rekor.internal",
        )
    )
    (authority,) = signed["spec"]["authorities"]
    assert authority["attestations"] == [{"name": "provenance", "predicateType": "slsaprovenance1"}]
    assert signed["spec"]["mode"] == "warn"
    assert (authority["keyless"]["url"], authority["ctlog"]["url"]) == (
        "https://fulcio.internal",
        "https://rekor.internal",
    )


@pytest.mark.parametrize("bad", ["ghcr.io/acme/vibeyard:1.0.0", "ghcr.io/acme/vibeyard@sha256:" + "ab" * 32])
def test_a_repository_with_a_tag_or_digest_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="must name no tag or digest"):
        render(**props_for(DEPLOYED[0], repository=bad))


def test_docker_hub_repositories_are_matched_as_policy_controller_spells_them() -> None:
    assert repository_globs("docker.io/library/redis", digest_only=True) == [
        "index.docker.io/library/redis@*"
    ]
    assert repository_globs("redis") == ["index.docker.io/library/redis@*", "index.docker.io/library/redis:*"]
    assert repository_globs("quay.io/prometheuscommunity/postgres-exporter", digest_only=True) == [
        "quay.io/prometheuscommunity/postgres-exporter@*"
    ]
    assert NAMESPACE_LABEL == {"policy.sigstore.dev/include": "true"}


@pytest.mark.parametrize("env", DEPLOYED)
def test_the_policies_validate_against_the_upstream_crd(env: str) -> None:
    assert CRD.is_file(), f"{CRD.relative_to(ROOT)} is missing"
    schema = schemas()[(API_VERSION, KIND)]
    objects = render(**props_for(env, provenance_type="slsaprovenance1"))
    assert len(objects) == 2
    problems = [
        f"{doc['metadata']['name']}: at {'.'.join(map(str, err.path)) or '(root)'}: {err.message}"
        for doc in objects
        for err in jsonschema.Draft7Validator(schema).iter_errors(doc)
    ]
    assert not problems, "\n".join(problems)


def test_an_environment_with_admission_checks_what_it_runs(variants: dict[str, Output]) -> None:
    out = variants["pinned"]
    sig = out.cfg.signatures
    assert sig.admission == "enforce"
    name = f"vibeyard-{out.cfg.namespace}"
    signed, allowed = out.get(KIND, name), out.get(KIND, f"{name}-unsigned-allowed")
    assert signed["spec"]["mode"] == allowed["spec"]["mode"] == "enforce"
    (authority,) = signed["spec"]["authorities"]
    assert authority["keyless"]["identities"] == [
        {"issuer": sig.signer_issuer, "subjectRegExp": sig.signer_identity}
    ]
    signed_globs = [i["glob"] for i in signed["spec"]["images"]]
    allowed_globs = [i["glob"] for i in allowed["spec"]["images"]]
    containers = [
        (labels.get("app.kubernetes.io/component"), c["image"])
        for o in out.objects
        if (tpl := ((o.get("spec") or {}).get("template") or {}).get("spec"))
        and (labels := o["metadata"].get("labels") or {}) is not None
        for c in [*tpl.get("initContainers", []), *tpl["containers"]]
    ]
    assert containers
    for component, image in containers:
        app = component in APP_COMPONENTS
        assert any(glob_matches(g, qualified(image)) for g in (signed_globs if app else allowed_globs)), image
        if app:
            assert not any(glob_matches(g, qualified(image)) for g in allowed_globs), image
    solver = "quay.io/jetstack/cert-manager-acmesolver:v1.19.1"
    assert any(glob_matches(g, solver) for g in allowed_globs), "cert-manager's solver would be refused"
    labels = out.get("Namespace", out.cfg.namespace)["metadata"]["labels"]
    assert NAMESPACE_LABEL.items() <= labels.items()


def test_only_environments_with_admission_render_a_policy(outputs: dict[str, Output]) -> None:
    for out in outputs.values():
        on = out.cfg.signatures.admission != "off"
        assert bool(out.of_kind(KIND)) == on, out.cfg.name
        assert (
            NAMESPACE_LABEL.items() <= out.get("Namespace", out.cfg.namespace)["metadata"]["labels"].items()
        ) == on
    project = next(
        yaml.safe_load(p.read_text("utf-8")) for p in (DIST / "argocd").glob("*-appproject-vibeyard.yaml")
    )
    kinds = {w["kind"] for w in project["spec"].get("clusterResourceWhitelist", [])}
    wanted = any(o.cfg.signatures.admission != "off" for o in outputs.values() if o.cfg.gitops)
    assert (KIND in kinds) == wanted, "the project allows the cluster-scoped kind only where one is rendered"
