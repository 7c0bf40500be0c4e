"""Every kubectl, argocd and kubeseal command in the docs exists, with flags the tool has.

kubectl is the real binary (scripts/install-cli-tools.sh, run by `make test`), asked for
its --help; argocd's and kubeseal's command trees come from tests/data/cli/ (no registry
ships them; tests/cli_help.py). Synthetic documents with one planted mistake each show
the check going red, in every place a command can hide: a fenced block, inline code, a
continuation line, a substitution, after a pipe or `&&`, a comment.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests import cli_help
from tests.doc_commands import TOOLS, Invocation, Result, check, doc_files, in_markdown
from tests.real.harness import tools as real_tools

ROOT = Path(__file__).resolve().parents[1]
DOCS = doc_files(ROOT)


def need_kubectl() -> None:
    """Outside CI a missing kubectl skips with one line; under CI=true it fails."""
    if not cli_help.KUBECTL.exists():
        message = f"{cli_help.KUBECTL} is missing: run scripts/install-test-deps.sh (make test does)"
        if real_tools.in_ci():
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)


@pytest.fixture(scope="module")
def clis() -> dict[str, cli_help.Tool]:
    need_kubectl()
    return {name: cli_help.kubectl() if name == "kubectl" else cli_help.reference(name) for name in TOOLS}


def results(text: str, clis: dict[str, cli_help.Tool]) -> list[tuple[Invocation, Result]]:
    found = []
    for inv in in_markdown(text, "doc.md"):
        result = check(inv, clis[inv.tool])
        if result is not None:
            found.append((inv, result))
    return found


def problems(text: str, clis: dict[str, cli_help.Tool]) -> list[str]:
    return [f"{inv.where}: `{inv.text}`: {p}" for inv, r in results(text, clis) for p in r.problems]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_in_the_docs_is_one_the_tool_accepts(doc: Path, clis: dict[str, cli_help.Tool]) -> None:
    found = problems(doc.read_text(encoding="utf-8"), clis)
    found = [p.replace("doc.md", str(doc.relative_to(ROOT)), 1) for p in found]
    assert not found, "commands the tools would refuse:\n" + "\n".join(found)


def test_each_line_that_starts_with_a_tool_in_a_shell_block_is_checked() -> None:
    """Read with a plain regex, independently of the shell reader: every line of a shell
    block that begins with a tool's name must come out as an invocation of that line."""
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        expected, fence = set(), None
        for number, line in enumerate(text.splitlines(), 1):
            if m := re.match(r"\s*(```+)(\w*)", line):
                fence = None if fence else m[2]
            elif fence in ("sh", "bash", "shell", "") and (m := re.match(rf"\s*({'|'.join(TOOLS)}) ", line)):
                expected.add((number, m[1]))
        found = {(int(inv.where.rsplit(":", 1)[1]), inv.tool) for inv in in_markdown(text, "doc.md")}
        assert expected <= found, f"{doc.name}: lines not checked: {sorted(expected - found)}"


GOOD = r"""
Inline: `kubectl get storageclass`, `kubectl apply -l <selector>`, `kubeseal` v0.36.6.

```sh
kubectl -n dev rollout status statefulset/postgres --timeout=5m
kubectl apply -n argocd --server-side \
  --force-conflicts -f https://example.com/install.yaml
POD=$(kubectl get pod -n prod -l app=x -o name | head -1) && kubectl logs "$POD" --previous
for w in $(kubectl apply -f . -o name | grep -E 'a|b'); do kubectl rollout status "$w"; done
kubectl top pods -n production            # pods: an alias of pod
kubectl -n dev create secret generic s --from-literal=a="$(openssl rand -hex 16)"
kubectl describe pod <pod> -n production 2>&1 | tail -3
kubectl exec -it -n staging statefulset/postgres -c postgres -- sh -c 'psql --no-such-flag'
argocd app wait vibeyard-prod --health --timeout 900
argocd cluster add <kubeconfig context of the prod cluster> --name prod
kubeseal --fetch-cert --controller-name sealed-secrets-controller > pub-cert.pem
# kubeseal CLI v0.36.6 from the same release page, then fetch the cluster's certificate:
# without Argo CD: kubectl -n production rollout restart deployment/a \
#   deployment/b
```

```yaml
command: ["kubectl", "--no-such-flag"]
```
"""

GOOD_PATHS = [
    ("kubectl", "get"),
    ("kubectl", "apply"),
    ("kubeseal",),
    ("kubectl", "rollout", "status"),
    ("kubectl", "apply"),
    ("kubectl", "logs"),
    ("kubectl", "get"),
    ("kubectl", "rollout", "status"),
    ("kubectl", "apply"),
    ("kubectl", "top", "pod"),
    ("kubectl", "create", "secret", "generic"),
    ("kubectl", "describe"),
    ("kubectl", "exec"),
    ("argocd", "app", "wait"),
    ("argocd", "cluster", "add"),
    ("kubeseal",),
    ("kubectl", "rollout", "restart"),
]


def test_commands_are_found_wherever_a_doc_puts_them(clis: dict[str, cli_help.Tool]) -> None:
    found = results(GOOD, clis)
    assert [(inv.tool, *r.path) for inv, r in found] == GOOD_PATHS
    assert not [p for _, r in found for p in r.problems]


@pytest.mark.parametrize(
    ("doc", "named"),
    [
        ("```sh\nkubectl rollout status deploy/x --timeoutt=5m\n```", "unknown flag --timeoutt"),
        ("Scale with `kubectl get pods --replicas=2`.", "kubectl get: unknown flag --replicas"),
        ("```bash\nPOD=$(kubectl get pod --nope -o name)\n```", "unknown flag --nope"),
        ("```sh\nkubectl apply -f a.yaml \\\n  --server-sidee\n```", "unknown flag --server-sidee"),
        ("```sh\nkubectl get pods | grep x && kubectl logs x --previouss\n```", "unknown flag --previouss"),
        ("```sh\nkubectl rollout statuss deployment/x\n```", "no subcommand 'statuss'"),
        ("```sh\nkubectl exec -itz pod -- sh\n```", "unknown flag -z (in -itz)"),
        ("```sh\nkubectl -n <ns> delete statefulset redis --cascad=orphan\n```", "unknown flag --cascad"),
        ("```\n# then: kubectl -n x rollout restrat deployment/a\n```", "no subcommand 'restrat'"),
        ("```sh\nargocd app wait x --healthy\n```", "argocd app wait: unknown flag --healthy"),
        ("```sh\nargocd app synch vibeyard-prod\n```", "argocd app: no subcommand 'synch'"),
        (
            "```sh\nargocd app sync x --timeout 9 --prune --health\n```",
            "argocd app sync: unknown flag --health",
        ),
        ("```sh\nkubeseal --fetch-certs > pub-cert.pem\n```", "kubeseal: unknown flag --fetch-certs"),
        ("```sh\ncat s.yaml | kubeseal --cert c.pem --scope strict --format yaml -x\n```", "unknown flag -x"),
    ],
)
def test_a_planted_mistake_is_named(doc: str, named: str, clis: dict[str, cli_help.Tool]) -> None:
    found = problems(doc, clis)
    assert len(found) == 1 and named in found[0], found


def test_kubectl_is_the_pinned_build_within_one_minor_of_the_deploy_workflows() -> None:
    """The flags are those of the kubectl that deploy.yml applies with, give or take one minor."""
    need_kubectl()
    out = cli_help.LiveTool(cli_help.KUBECTL).run(("version", "--client"))
    ours = re.search(r"Client Version: v1\.(\d+)\.", out)
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text(encoding="utf-8"))
    pins = [
        step["with"]["version"]
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "setup-kubectl" in step.get("uses", "")
    ]
    assert ours and pins, (out, pins)
    for pin in pins:
        minor = int(re.match(r"v?1\.(\d+)", pin)[1])  # type: ignore[index]
        assert abs(int(ours[1]) - minor) <= 1, f"kubectl 1.{ours[1]} checks the docs, deploy.yml pins {pin}"
