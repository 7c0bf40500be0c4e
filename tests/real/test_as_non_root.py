"""A real-component test passes for a user who is not root.

GitHub's runners run the suite as `runner`; this project's CI runs it as root. So that
both are covered wherever the suite runs, one real test (redis-server started with an
environment's rendered config, probes included: the environment whose render runs the
most Redis servers) runs in a child pytest as an unprivileged user: as root, the child
drops to `nobody` with setpriv (no supplementary groups, no capabilities); as anyone else,
it runs as that user. The child gets CI=true, so it fails rather than skips if it cannot
start the software, and a HOME and basetemp of its own: whatever the harness writes must
be writable by that user.

The child reads this session's synthesis, as a pytest-xdist worker reads the one its run
shares (tests/conftest.py): what a non-root user must be able to do is run the harness,
and rendering the same trees again would only double the child's time.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.real import test_redis
from tests.real.harness import discover, distinct, tools

ROOT = Path(__file__).resolve().parents[2]
# The child's interpreter may not be the venv's own (a venv made as root can point into
# /root), so it loads the venv's packages itself.
_BOOT = """import os, site, sys
site.addsitedir(sys.argv[1])
print(f"child uid={os.geteuid()}", flush=True)
import pytest
raise SystemExit(pytest.main(sys.argv[2:]))
"""


@pytest.fixture
def unprivileged() -> Iterator[tuple[list[str], Path]]:
    """The command prefix that runs as the unprivileged user, and a folder that user owns."""
    folder = Path(tempfile.mkdtemp(prefix="vibeyard-nonroot-"))
    try:
        if os.geteuid() != 0:
            yield [], folder
            return
        nobody = pwd.getpwnam("nobody")
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
        setpriv = tools.find("setpriv")
        yield [setpriv, f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"], folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def interpreter(prefix: list[str]) -> str:
    """A Python of this version that the unprivileged user can run: ours, or the system's."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    tried = [c for c in (sys.executable, f"/usr/bin/python{version}", shutil.which(f"python{version}")) if c]
    ask = "import sys; print(f'{sys.version_info.major}.{sys.version_info.minor}')"
    for candidate in tried:
        probe = subprocess.run([*prefix, candidate, "-c", ask], check=False, capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    pytest.fail(f"no Python {version} that the unprivileged user can run (tried {', '.join(tried)})")


def one_real_test() -> str:
    """The node id of the Redis test for the config whose render runs the most Redis servers."""
    test = test_redis.test_every_redis_loads_its_rendered_config_and_passes_its_probes

    def servers(envs: tuple[str, ...]) -> int:
        out = distinct.dist(envs[0])
        return 0 if out is None else sum(discover.runs(w, "redis-server") for w in out.workloads())

    params = distinct.groups(test_redis.REDIS)
    richest = max(params, key=lambda p: servers(p.values[0]))
    return f"{Path(test_redis.__file__).relative_to(ROOT)}::{test.__name__}[{richest.id}]"


def test_a_real_redis_test_passes_as_a_non_root_user(
    unprivileged: tuple[list[str], Path], synthesized: dict[str, dict[str, str]]
) -> None:
    prefix, folder = unprivileged
    (folder / "synthesized.json").write_text(json.dumps(synthesized), encoding="utf-8")
    reach = subprocess.run([*prefix, "test", "-r", str(ROOT / "pyproject.toml")], check=False)
    assert reach.returncode == 0, f"{ROOT} is unreadable for that user: clone it where all can read"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(folder),
        "CI": "true",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "PYTHONDONTWRITEBYTECODE": "1",
        # tests/conftest.py reads this session's synthesis from there instead of rendering.
        "VIBEYARD_TEST_RENDERS": str(folder),
    }
    command = [
        *prefix,
        interpreter(prefix),
        "-c",
        _BOOT,
        sysconfig.get_paths()["purelib"],
        "-q",
        "-p",
        "no:cacheprovider",
        "--basetemp",
        str(folder / "basetemp"),
        one_real_test(),
    ]
    child = subprocess.run(
        command,
        check=False,
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=600,
    )
    tail = "\n".join((child.stdout + child.stderr).splitlines()[-25:])
    uid = re.search(r"child uid=(\d+)", child.stdout)
    assert uid and int(uid.group(1)) != 0, f"the child did not run as a non-root user:\n{tail}"
    assert child.returncode == 0, f"the real test failed as uid {uid.group(1)}:\n{tail}"
    passed = re.search(r"(\d+) passed", child.stdout)
    assert passed and int(passed.group(1)) == 1, tail
    assert not re.search(r"\d+ (skipped|error)", child.stdout), tail
