"""The migration Job's launcher, run verbatim from dist with a stand-in command.

The Job runs ``node -e <launcher> <migration command...>``: the launcher (rendered from
constructs/vibeyard/app/migrate.js) waits until PostgreSQL accepts connections, then runs
the command with DATABASE_URL holding the password. The app image (and Prisma) are not
here, so the command after the script is replaced by a stand-in that really connects
with the URL it is handed (tests/real/node/pg_query.mjs); the launcher, its env and the
pod's user are the rendered ones, its DATABASE_URL pointed at the loopback port.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from . import procs, tools
from .pods import Cluster, Container, Pod
from .procs import HarnessError
from .servers import localize_url

STANDIN = Path(__file__).resolve().parents[1] / "node" / "pg_query.mjs"


def job_pod(cluster: Cluster) -> Pod | None:
    """The pod of the environment's migration Job, laid out, if the environment renders one."""
    for job in cluster.out.of_kind("Job"):
        if job["metadata"]["labels"].get("app.kubernetes.io/component") == "migration":
            return cluster.pod(job)
    return None


def standin(query: str | None = None) -> list[str]:
    return [tools.find("node"), str(STANDIN), *([query] if query else [])]


def run_standin(
    container: Container, env: Mapping[str, str], query: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The stand-in alone, as the pod's user with ``env`` (no launcher in front of it)."""
    return procs.run(standin(query), env=env, run_as=container.run_as, cwd=container.pod.dir, timeout=15)


class Launcher:
    """One run of the rendered launcher in the Job's pod, with ``command`` after it."""

    def __init__(self, pod: Pod, command: list[str]) -> None:
        self.pod = pod
        cluster = pod.cluster
        self.c = pod.container()
        argv = self.c.argv()
        if len(argv) < 3 or Path(argv[0]).name != "node" or argv[1] != "-e":
            raise HarnessError(f"{cluster.env}: the migration Job does not run `node -e <launcher> ...`")
        self.argv = [tools.find("node"), "-e", argv[2], *command]
        self.env = self.c.host_env()
        self.env["DATABASE_URL"] = localize_url(cluster, self.env["DATABASE_URL"])
        self.log = self.pod.dir / f"launcher-{time.monotonic_ns()}.log"
        self.proc: procs.Proc | None = None

    def start(self) -> Launcher:
        self.proc = procs.Proc(
            f"{self.pod.cluster.env}/{self.pod.name}",
            self.argv,
            env=self.env,
            log=self.log,
            run_as=self.c.run_as,
            cwd=self.pod.dir,
        )
        self.pod.procs.append(self.proc)
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for(self, text: str, timeout: float = 10.0) -> None:
        """Until the launcher has written ``text`` (its waiting lines say why it waits)."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if time.monotonic() > deadline or (self.proc is not None and not self.proc.alive()):
                raise HarnessError(
                    f"{self.pod.name}: the launcher never said {text!r}: {self.output()[-400:]}"
                )
            time.sleep(0.02)

    def finish(self, timeout: float = 15.0) -> tuple[int | None, str]:
        """Its exit code (None: still running after ``timeout``) and everything it wrote."""
        assert self.proc is not None
        code = self.proc.wait(timeout)
        if code is None:
            self.proc.stop()
        return code, self.output()
