"""Every bad-config case: one exact line on stderr, exit 2, dist/ byte-identical.

Each row of ``CASES`` is a mistake a person could make while editing
``config/environments.py`` (a ``dataclasses.replace`` of a committed
environment), the command line, the CD variables or a sealed-secrets file,
together with the exact line the synth must print. The synth runs in-process
(``vibeyard.cli.main``) against a temporary repository whose ``dist/`` holds a
previous output. ``cdk8s`` is made unimportable for the run, which proves that
every one of these errors is found before jsii starts or any construct exists.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.support import KUBESEAL_HINT
from vibeyard.config import ENVIRONMENTS, ConfigError, EnvConfig
from vibeyard.config.types import ManagedEgress, Placement, Resources, WorkerPool
from vibeyard.synth import cli
from vibeyard.synth.inputs import resolve
from vibeyard.synth.sealed import load_sealed

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")

# The committed sealed files, and the hint load_sealed ends its messages with.
PROD_SEALED = "secrets/prod.sealed.yaml"
HINT = KUBESEAL_HINT
DNS = "a DNS-1123 label: lowercase letters, digits and '-', at most {} characters"
IMAGE_REPO = "an image repository like 'ghcr.io/org/name' (lowercase, no tag)"
IMAGE_TAG = "an image tag of [A-Za-z0-9_.-], at most 128 characters, and never 'latest'"
DIGEST = "'sha256:' followed by 64 lowercase hex digits"
HOST = "a fully qualified DNS name in lowercase, like 'vibeyard.example.com'"
LABEL = "a label value: at most 63 characters, alphanumeric at both ends, '-_.' inside"
CPU = "millicores like '250m' or cores like '1' or '0.5'"
MEM = "bytes with a suffix Ki, Mi, Gi, Ti (or k, M, G, T), like '512Mi'"
PORT = "an integer from 1 to 65535"
PERCENT = "an integer from 1 to 100"
GOOD_DIGEST = "sha256:" + "a" * 64


def with_(obj: T, **changes: Any) -> T:
    """``dataclasses.replace`` that lets a case set a wrongly typed value on purpose."""
    result: T = replace(obj, **changes)  # type: ignore[type-var]
    return result


def web(**changes: Any) -> Callable[[EnvConfig], EnvConfig]:
    return lambda cfg: with_(cfg, web=with_(cfg.web, **changes))


def hpa(**changes: Any) -> Callable[[EnvConfig], EnvConfig]:
    return lambda cfg: with_(cfg, web=with_(cfg.web, autoscaling=with_(cfg.web.autoscaling, **changes)))


def web_resources(**changes: Any) -> Callable[[EnvConfig], EnvConfig]:
    return lambda cfg: with_(cfg, web=with_(cfg.web, resources=with_(cfg.web.resources, **changes)))


def image(**changes: Any) -> Callable[[EnvConfig], EnvConfig]:
    return lambda cfg: with_(cfg, image=with_(cfg.image, **changes))


def ingress(**changes: Any) -> Callable[[EnvConfig], EnvConfig]:
    return lambda cfg: with_(cfg, ingress=with_(cfg.ingress, **changes))


def pool(index: int, **changes: Any) -> Callable[[EnvConfig], EnvConfig]:
    def mutate(cfg: EnvConfig) -> EnvConfig:
        workers = list(cfg.workers)
        workers[index] = with_(workers[index], **changes)
        return with_(cfg, workers=tuple(workers))

    return mutate


def top(**changes: Any) -> Callable[[EnvConfig], EnvConfig]:
    return lambda cfg: with_(cfg, **changes)


def sealed_without(key: str) -> str:
    lines = (ROOT / PROD_SEALED).read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.strip().startswith(f"{key}:")]
    assert len(kept) == len(lines) - 1, f"{PROD_SEALED} has no line for {key}"
    return "".join(kept)


@dataclass(frozen=True)
class Case:
    id: str
    expected: str  # the whole stderr line, without "config error: " and the newline
    mutate: Callable[[EnvConfig], EnvConfig] | None = None
    env: str = "prod"  # the environment ``mutate`` applies to
    argv: tuple[str, ...] = ()
    environ: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)  # written into the repository first


CASES = [
    # --- replica counts ---------------------------------------------------------------
    Case("negative-web-replicas", "prod: web.replicas=-1 is invalid: an integer >= 1", web(replicas=-1)),
    Case("zero-web-replicas", "prod: web.replicas=0 is invalid: an integer >= 1", web(replicas=0)),
    Case(
        "negative-worker-replicas",
        "prod: workers[1].replicas=-2 is invalid: an integer >= 0",
        pool(1, replicas=-2),
    ),
    Case("replicas-as-text", "prod: web.replicas='3' is invalid: an integer", web(replicas="3")),
    Case("replicas-as-bool", "prod: web.replicas=True is invalid: an integer", web(replicas=True)),
    # --- autoscaling bounds -----------------------------------------------------------
    Case(
        "hpa-min-above-max",
        "prod: web.autoscaling.min_replicas=6 is invalid: at most web.autoscaling.max_replicas (4)",
        hpa(min_replicas=6, max_replicas=4),
    ),
    Case(
        "hpa-min-zero",
        "prod: web.autoscaling.min_replicas=0 is invalid: an integer >= 1",
        hpa(min_replicas=0),
    ),
    Case(
        "worker-min-above-max",
        "prod: workers[1].min_replicas=9 is invalid: at most workers[1].max_replicas (8)",
        pool(1, min_replicas=9),
    ),
    # --- disruption budget --------------------------------------------------------------
    Case(
        "pdb-blocks-drains",
        "prod: web.disruption.max_unavailable=0 is invalid: an integer >= 1",
        web(disruption=with_(ENVIRONMENTS["prod"].web.disruption, max_unavailable=0)),
    ),
    # --- environment selection --------------------------------------------------------
    Case(
        "unknown-env-argv",
        "prdo: unknown environment 'prdo': choose one of dev, prod, staging",
        argv=("prod", "prdo"),
    ),
    Case(
        "unknown-env-variable",
        "qa: unknown environment 'qa': choose one of dev, prod, staging",
        environ={"VIBEYARD_ENV": "staging,qa"},
    ),
    # --- image references -------------------------------------------------------------
    Case(
        "image-repository-uppercase",
        f"prod: image.repository='ghcr.io/Your-Org/vibeyard' is invalid: {IMAGE_REPO}",
        image(repository="ghcr.io/Your-Org/vibeyard"),
    ),
    Case(
        "image-repository-with-tag",
        f"prod: image.repository='ghcr.io/your-org/vibeyard:1.0.0' is invalid: {IMAGE_REPO}",
        image(repository="ghcr.io/your-org/vibeyard:1.0.0"),
    ),
    Case("image-tag-latest", f"prod: image.tag='latest' is invalid: {IMAGE_TAG}", image(tag="latest")),
    Case("image-tag-space", f"prod: image.tag='1.0 .0' is invalid: {IMAGE_TAG}", image(tag="1.0 .0")),
    Case(
        "image-digest-short",
        f"prod: image.digest='sha256:abc' is invalid: {DIGEST}",
        image(digest="sha256:abc"),
    ),
    Case(
        "image-digest-uppercase-hex",
        f"prod: image.digest='sha256:{'A' * 64}' is invalid: {DIGEST}",
        image(digest="sha256:" + "A" * 64),
    ),
    Case(
        "store-image-digest-md5",
        f"staging: postgres.image.digest='md5:{'a' * 32}' is invalid: {DIGEST}",
        lambda cfg: with_(
            cfg, postgres=with_(cfg.postgres, image=with_(cfg.postgres.image, digest="md5:" + "a" * 32))
        ),
        env="staging",
    ),
    Case(
        "cd-digest-override",
        f"dev: image.digest='{GOOD_DIGEST[:-1]}' is invalid: {DIGEST}",
        environ={"VIBEYARD_IMAGE_DIGEST": GOOD_DIGEST[:-1]},
    ),
    Case(
        "cd-tag-override",
        f"dev: image.tag='v1.2.3\\n' is invalid: {IMAGE_TAG}",
        environ={"VIBEYARD_IMAGE_TAG": "v1.2.3\n"},
    ),
    # --- hosts ------------------------------------------------------------------------
    Case("host-empty", f"prod: ingress.host='' is invalid: {HOST}", ingress(host="")),
    Case(
        "host-with-scheme",
        f"prod: ingress.host='https://vibeyard.example.com' is invalid: {HOST}",
        ingress(host="https://vibeyard.example.com"),
    ),
    Case(
        "host-underscore",
        f"prod: ingress.host='vibe_yard.example.com' is invalid: {HOST}",
        ingress(host="vibe_yard.example.com"),
    ),
    Case("host-single-label", f"prod: ingress.host='vibeyard' is invalid: {HOST}", ingress(host="vibeyard")),
    Case(
        "host-not-the-app-url",
        "prod: app_url='https://vibeyard.example.com' is invalid: a URL on ingress.host "
        "(www.vibeyard.example.com), the host the app is served on",
        ingress(host="www.vibeyard.example.com"),
    ),
    # --- names and label values -------------------------------------------------------
    Case(
        "namespace-uppercase",
        f"prod: namespace='Production' is invalid: {DNS.format(54)}",
        top(namespace="Production"),
    ),
    Case(
        "namespace-too-long-for-instance-label",
        f"prod: namespace='{'n' * 55}' is invalid: {DNS.format(54)}",
        top(namespace="n" * 55),
    ),
    Case(
        "namespace-trailing-newline",
        f"prod: namespace='production\\n' is invalid: {DNS.format(54)}",
        top(namespace="production\n"),
    ),
    Case(
        "pool-name-underscore",
        f"prod: workers[1].name='bulk_jobs' is invalid: {DNS.format(47)}",
        pool(1, name="bulk_jobs"),
    ),
    Case(
        "pool-name-too-long",
        f"prod: workers[1].name='{'a' * 48}' is invalid: {DNS.format(47)}",
        pool(1, name="a" * 48),
    ),
    Case(
        "tls-secret-uppercase",
        f"prod: ingress.tls_secret='Vibeyard-TLS' is invalid: {DNS.format(253)}",
        ingress(tls_secret="Vibeyard-TLS"),
    ),
    Case(
        "image-tag-too-long-for-version-label",
        f"prod: image.tag='{'1' * 64}' is invalid: {LABEL}",
        image(tag="1" * 64),
    ),
    Case(
        "node-selector-value",
        f"prod: web.placement.node_selector[pool]='-spot' is invalid: {LABEL}",
        web(placement=Placement(node_selector={"pool": "-spot"})),
    ),
    # --- resource quantities ----------------------------------------------------------
    Case(
        "memory-512mb",
        f"prod: web.resources.memory_request='512mb' is invalid: {MEM}",
        web_resources(memory_request="512mb"),
    ),
    Case(
        "cpu-1.5cores",
        f"prod: web.resources.cpu_request='1.5cores' is invalid: {CPU}",
        web_resources(cpu_request="1.5cores"),
    ),
    Case(
        "cpu-none",
        "prod: web.resources.cpu_request=None is invalid: a string",
        web_resources(cpu_request=None),
    ),
    Case(
        "worker-memory-1GB",
        f"prod: workers[1].resources.memory_limit='1GB' is invalid: {MEM}",
        pool(1, resources=Resources(cpu_request="250m", memory_request="512Mi", memory_limit="1GB")),
    ),
    Case(
        "storage-with-space",
        f"staging: postgres.storage_size='10 Gi' is invalid: {MEM}",
        lambda cfg: with_(cfg, postgres=with_(cfg.postgres, storage_size="10 Gi")),
        env="staging",
    ),
    Case(
        "quota-memory-24gb",
        f"prod: quota.memory_requests='24gb' is invalid: {MEM}",
        lambda cfg: with_(cfg, quota=with_(cfg.quota, memory_requests="24gb")),
    ),
    # --- requests above limits --------------------------------------------------------
    Case(
        "memory-request-above-limit",
        "prod: web.resources.memory_request='2Gi' is invalid: at most the memory limit 1Gi",
        web_resources(memory_request="2Gi"),
    ),
    Case(
        "cpu-request-above-limit",
        "prod: web.resources.cpu_request='1500m' is invalid: at most the CPU limit 1000m",
        web_resources(cpu_request="1500m"),
    ),
    Case(
        "worker-cpu-request-above-limit",
        "prod: workers[0].resources.cpu_request='2' is invalid: at most the CPU limit 500m",
        pool(
            0,
            resources=Resources(
                cpu_request="2", memory_request="256Mi", cpu_limit="500m", memory_limit="512Mi"
            ),
        ),
    ),
    # --- utilization targets ----------------------------------------------------------
    Case(
        "cpu-target-0",
        f"prod: web.autoscaling.cpu_utilization=0 is invalid: {PERCENT}",
        hpa(cpu_utilization=0),
    ),
    Case(
        "cpu-target-101",
        f"prod: web.autoscaling.cpu_utilization=101 is invalid: {PERCENT}",
        hpa(cpu_utilization=101),
    ),
    Case(
        "memory-target-0",
        f"prod: web.autoscaling.memory_utilization=0 is invalid: {PERCENT}",
        hpa(memory_utilization=0),
    ),
    Case(
        "memory-target-150",
        f"staging: web.autoscaling.memory_utilization=150 is invalid: {PERCENT}",
        hpa(memory_utilization=150),
        env="staging",
    ),
    # --- worker pools -----------------------------------------------------------------
    Case(
        "duplicate-pool-names",
        "prod: workers[2].name='analysis' is invalid: a pool name used only once",
        lambda cfg: with_(cfg, workers=(*cfg.workers, WorkerPool(name="analysis", queues=("reports",)))),
    ),
    Case(
        "pool-queues-string-not-tuple",
        "prod: workers[0].queues='default' is invalid: "
        "a tuple of strings; write ('default',) with a trailing comma",
        pool(0, queues="default"),
    ),
    Case(
        "workers-not-a-tuple",
        f"prod: workers={ENVIRONMENTS['prod'].workers[0]!r} is invalid: a tuple of WorkerPool blocks",
        lambda cfg: with_(cfg, workers=cfg.workers[0]),
    ),
    # --- ports ------------------------------------------------------------------------
    Case("web-port-0", f"prod: web.port=0 is invalid: {PORT}", web(port=0)),
    Case("web-port-65536", f"prod: web.port=65536 is invalid: {PORT}", web(port=65536)),
    Case(
        "egress-port-70000",
        f"prod: network.managed_egress[0].port=70000 is invalid: {PORT}",
        lambda cfg: with_(
            cfg, network=with_(cfg.network, managed_egress=(ManagedEgress(cidr="10.20.0.0/16", port=70000),))
        ),
    ),
    Case(
        "pool-metrics-port-negative",
        f"prod: workers[1].metrics_port=-9090 is invalid: {PORT}",
        pool(1, metrics_port=-9090),
    ),
    # --- sealed secrets (files in the repository, read before any construct) ----------
    Case(
        "sealed-missing-key",
        f"prod: secrets.sealed_file='{PROD_SEALED}' is invalid: "
        f"it lacks the required key 'openai-api-key'; {HINT}",
        files={PROD_SEALED: sealed_without("openai-api-key")},
    ),
    Case(
        "sealed-malformed-yaml",
        f"prod: secrets.sealed_file='{PROD_SEALED}' is invalid: not valid YAML at line 3",
        files={PROD_SEALED: "encryptedData:\n  database-url: AgX\n\tnextauth-secret: AgY\n"},
    ),
    Case(
        "sealed-not-a-mapping",
        f"prod: secrets.sealed_file='{PROD_SEALED}' is invalid: "
        "expected a mapping with 'encryptedData' (or a SealedSecret manifest)",
        files={PROD_SEALED: "- just\n- a list\n"},
    ),
    Case(
        "sealed-file-missing",
        f"prod: secrets.sealed_file='secrets/prd.sealed.yaml' is invalid: no such file; {HINT}",
        lambda cfg: with_(cfg, secrets=with_(cfg.secrets, sealed_file="secrets/prd.sealed.yaml")),
    ),
]


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its bytes (None for a folder)."""
    return {
        p.relative_to(folder).as_posix(): None if p.is_dir() else p.read_bytes()
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with the committed sealed files and a previous synth's dist/."""
    root = tmp_path / "repo"
    if (ROOT / "secrets").is_dir():
        shutil.copytree(ROOT / "secrets", root / "secrets")
    for rel, text in {
        "dev/00-namespace-dev.yaml": "kind: Namespace\n# previous dev\n",
        "staging/00-namespace-staging.yaml": "kind: Namespace\n# previous staging\n",
        "prod/00-namespace-production.yaml": "kind: Namespace\n# previous prod\n",
        "prod/99-stale.yaml": "# a full synth would delete this\n",
        "argocd/00-application-prod.yaml": "# previous argocd\n",
    }.items():
        (root / "dist" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "dist" / rel).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_config_is_one_line_and_dist_is_untouched(
    case: Case, repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if case.mutate is not None:
        monkeypatch.setitem(ENVIRONMENTS, case.env, case.mutate(ENVIRONMENTS[case.env]))
    for rel, text in case.files.items():
        (repo / rel).write_text(text, encoding="utf-8")
    # cdk8s unimportable: the error must come before jsii, and before any construct.
    monkeypatch.setitem(sys.modules, "cdk8s", None)
    before = tree(repo)

    code = cli.main(list(case.argv), dict(case.environ), repo)

    captured = capsys.readouterr()
    assert (code, captured.err, captured.out) == (2, f"config error: {case.expected}\n", "")
    assert "Traceback" not in captured.err
    assert tree(repo) == before  # dist/ byte-identical, no staging folders left behind


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (sealed_without("database-url"), f"it lacks the required key 'database-url'; {HINT}"),
        ("encryptedData: {database-url: AgX\n", "not valid YAML at line 2"),
        (
            "encryptedData:\n  database-url: ''\n",
            "'encryptedData' must map each key to a non-empty kubeseal ciphertext string",
        ),
    ],
    ids=["missing-key", "malformed", "empty-ciphertext"],
)
def test_load_sealed_rejects_bad_files(tmp_path: Path, content: str, why: str) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / PROD_SEALED).write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_sealed(ENVIRONMENTS["prod"], tmp_path)
    assert str(err.value) == f"prod: secrets.sealed_file='{PROD_SEALED}' is invalid: {why}"


def test_a_config_error_found_during_synthesis_is_one_line_too(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI contract for checks that run inside rendering (future ones included)."""

    def render_units(*args: object, **kwargs: object) -> list[tuple[str, dict[str, str]]]:
        raise ConfigError("prod: workers[0].name='x' is invalid: something later")

    monkeypatch.setattr(cli, "render_units", render_units)
    before = tree(repo)
    assert cli.main([], {}, repo) == 2
    assert capsys.readouterr().err == "config error: prod: workers[0].name='x' is invalid: something later\n"
    assert tree(repo) == before


def test_the_committed_environments_are_valid() -> None:
    assert [cfg.name for cfg in resolve(None, overrides={})] == list(ENVIRONMENTS)
    for cfg in ENVIRONMENTS.values():
        if cfg.secrets.provider == "sealed":
            load_sealed(cfg, ROOT)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (hpa(cpu_utilization=1, memory_utilization=100), None),
        (hpa(memory_utilization=None), None),
        (web(port=1), None),
        (web(port=65535), None),
        (web_resources(cpu_request="0.25", memory_request="0.5Gi", memory_limit="0.75Gi"), None),
        (top(namespace="n" * 54), None),
        (pool(1, name="a" * 47), None),
    ],
    ids=[
        "targets-1-and-100",
        "no-memory-target",
        "port-1",
        "port-65535",
        "decimal-quantities",
        "ns-54",
        "pool-47",
    ],
)
def test_the_edges_of_what_is_allowed_pass(mutate: Callable[[EnvConfig], EnvConfig], expected: None) -> None:
    """Off-by-one guard for the table above: the limits themselves are valid."""
    cfg = mutate(ENVIRONMENTS["prod"])
    assert resolve(["prod"], overrides={}, environments={"prod": cfg}) == [cfg]
