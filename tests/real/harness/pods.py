"""A rendered pod, made local: env, command, volumes, ports and probes.

What dist renders is used as is. Three things are translated, each in one place:

- mount paths: every volume becomes a directory under the pod's temp dir, and any
  mount path in a file, an argument, an env value or a probe is rewritten to it;
- ports: each containerPort gets a free loopback port; a Service resolves, through its
  selector and targetPort, to the port of the pod it selects;
- secrets: the Secret's keys get test values (``secrets.py``).

Env is resolved as the kubelet does: ``envFrom`` first, then ``env`` in order, each
``$(VAR)`` expanded from what is already defined (``$$`` escapes, unknown names stay).
"""

from __future__ import annotations

import contextlib
import json
import pwd
import re
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from tests.support import Manifest, Output

from . import procs, tools
from .procs import HarnessError, RunAs
from .secrets import TestSecret

_VAR = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
SHIM = Path(__file__).with_name("podshim.py")
SHIMMED = ("redis-cli", "pg_isready", "psql", "sleep", "kill", "killall", "pkill")


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' $(VAR) expansion: known names replaced, ``$$`` -> ``$``, the rest kept."""

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        return env.get(name, m.group(0))

    return _VAR.sub(sub, text)


def container_env(cluster: Cluster, spec: Manifest, where: str, pod_name: str) -> dict[str, str]:
    """A container's env as the kubelet builds it (before any mount remapping)."""
    out: dict[str, str] = {}
    for source in spec.get("envFrom", []):
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            data = cluster.config_map(source["configMapRef"]["name"]).get("data", {})
        else:
            data = cluster.secret.all(source["secretRef"]["name"])
        out.update({prefix + k: v for k, v in data.items()})
    fields = {
        "metadata.name": f"{pod_name}-0",
        "metadata.namespace": cluster.namespace,
        "status.podIP": "127.0.0.1",
        "status.hostIP": "127.0.0.1",
        "spec.nodeName": "node",
    }
    for var in spec.get("env", []):
        name, source = var["name"], var.get("valueFrom", {})
        if "value" in var:
            out[name] = expand(str(var["value"]), out)
        elif "secretKeyRef" in source:
            out[name] = cluster.secret.value(source["secretKeyRef"]["name"], source["secretKeyRef"]["key"])
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            out[name] = cluster.config_map(ref["name"])["data"][ref["key"]]
        elif source.get("fieldRef", {}).get("fieldPath") in fields:
            out[name] = fields[source["fieldRef"]["fieldPath"]]
        else:
            raise HarnessError(f"{where}: env {name} has a source the harness does not model")
    return out


class Cluster:
    """One environment's rendered objects, test secret values and running pods."""

    def __init__(self, out: Output, root: Path, secret: TestSecret) -> None:
        self.out = out
        self.env = out.cfg.name
        self.namespace = out.cfg.namespace
        self.root: Path = root / self.env
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        self.secret = secret
        self.pods: list[Pod] = []
        self.external: dict[str, int] = {}  # "host:port" -> local port, for stand-ins of managed services

    def workload(self, kind: str, name: str) -> Manifest | None:
        found = [o for o in self.out.of_kind(kind) if o["metadata"]["name"] == name]
        return found[0] if found else None

    def config_map(self, name: str) -> Manifest:
        cm = self.workload("ConfigMap", name)
        if cm is None:
            raise HarnessError(f"{self.env}: ConfigMap {name} is referenced but not rendered")
        return cm

    def pod(self, workload: Manifest) -> Pod:
        pod = Pod(self, workload)
        self.pods.append(pod)
        return pod

    def hosts(self, service: str) -> list[str]:
        """The names a client in the namespace may use for a Service."""
        ns = self.namespace
        domain = self.out.cfg.cluster.cluster_domain
        return [service, f"{service}.{ns}", f"{service}.{ns}.svc", f"{service}.{ns}.svc.{domain}"]

    def resolve(self, host: str, port: int) -> int:
        """The loopback port behind ``host:port`` as a pod in the namespace would reach it."""
        if f"{host}:{port}" in self.external:
            return self.external[f"{host}:{port}"]
        for svc in self.out.of_kind("Service"):
            if host not in self.hosts(svc["metadata"]["name"]):
                continue
            for sp in svc["spec"]["ports"]:
                if int(sp["port"]) != port:
                    continue
                for pod in self.pods:
                    if _selects(svc["spec"].get("selector", {}), pod.labels):
                        return pod.target_port(sp.get("targetPort", port))
                raise HarnessError(f"{self.env}: Service {host} selects no started pod")
            raise HarnessError(f"{self.env}: Service {host} has no port {port}")
        raise HarnessError(f"{self.env}: nothing answers for {host}:{port} (no such Service)")

    def service_map(self) -> dict[str, str]:
        """Every reachable host:port -> local port, for the probe shims."""
        out = {k: str(v) for k, v in self.external.items()}
        for svc in self.out.of_kind("Service"):
            for sp in svc["spec"]["ports"]:
                for host in self.hosts(svc["metadata"]["name"]):
                    with contextlib.suppress(HarnessError):
                        out[f"{host}:{sp['port']}"] = str(self.resolve(host, int(sp["port"])))
        return out

    def stop(self) -> None:
        stop_clusters([self])


def stop_clusters(clusters: Iterable[Cluster]) -> None:
    """Every process of every pod of ``clusters``, stopped together (``procs.stop_together``)."""
    procs.stop_together([p for c in clusters for pod in reversed(c.pods) for p in pod.procs])


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


class Pod:
    """One replica of a workload, laid out under ``<root>/<env>/<name>``."""

    def __init__(self, cluster: Cluster, workload: Manifest) -> None:
        self.cluster = cluster
        self.workload = workload
        self.name = workload["metadata"]["name"]
        template = workload["spec"]["template"]
        self.labels: dict[str, str] = template["metadata"].get("labels", {})
        self.spec: Manifest = template["spec"]
        self.dir: Path = cluster.root / self.name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o755)
        sc = self.spec.get("securityContext", {})
        self.grace = int(self.spec.get("terminationGracePeriodSeconds", 30))
        self.ports: dict[int, int] = {}
        self.port_names: dict[str, int] = {}
        for c in self.spec["containers"]:
            for p in c.get("ports", []):
                self.ports[int(p["containerPort"])] = procs.free_port()
                if "name" in p:
                    self.port_names[p["name"]] = int(p["containerPort"])
        self._pod_sc = sc
        self.volumes = self._volumes()
        self.procs: list[procs.Proc] = []
        self._initialised = False

    def run_as(self, container: Manifest) -> RunAs:
        sc = {**self._pod_sc, **container.get("securityContext", {})}
        uid = int(sc.get("runAsUser", 65534))
        return RunAs(uid, int(sc.get("runAsGroup", uid)), sc.get("fsGroup", self._pod_sc.get("fsGroup")))

    def container(self, name: str | None = None) -> Container:
        specs = self.spec["containers"]
        if name is None:
            return Container(self, specs[0])
        for c in specs:
            if c["name"] == name:
                return Container(self, c)
        raise HarnessError(f"{self.name}: no container {name}")

    def containers(self) -> Iterator[Container]:
        for c in self.spec["containers"]:
            yield Container(self, c)

    def target_port(self, target: int | str) -> int:
        port = self.port_names.get(target) if isinstance(target, str) else int(target)
        if port is None or port not in self.ports:
            raise HarnessError(f"{self.name}: no container port {target}")
        return self.ports[port]

    # --- volumes ---------------------------------------------------------------------------------

    def _volumes(self) -> dict[str, Path]:
        root = self.dir / "volumes"
        root.mkdir(exist_ok=True)
        root.chmod(0o755)
        run_as = self.run_as({})
        out: dict[str, Path] = {}
        claims = {t["metadata"]["name"] for t in self.workload["spec"].get("volumeClaimTemplates", [])}
        volumes = {v["name"]: v for v in self.spec.get("volumes", [])}
        for name in claims:
            volumes.setdefault(name, {"name": name, "persistentVolumeClaim": {"claimName": name}})
        self.volumes = {name: root / name for name in volumes}  # known before any file is written
        for name, vol in volumes.items():
            path = root / name
            if path.exists():
                shutil.rmtree(path)
            path.mkdir()
            if "configMap" in vol:
                cm = self.cluster.config_map(vol["configMap"]["name"])
                self._write_items(path, cm.get("data", {}), vol["configMap"].get("items"))
                run_as.own(path, 0o755)
            elif "secret" in vol:
                items = vol["secret"].get("items")
                data = self.cluster.secret.files(vol["secret"]["secretName"], items)
                self._write_items(path, data, items)
                run_as.own(path, 0o755)
            elif "emptyDir" in vol:
                run_as.own(path, 0o2777)
            elif "persistentVolumeClaim" in vol:
                # A fresh ext4 volume: root owns lost+found, the kubelet applies fsGroup to the root.
                (path / "lost+found").mkdir(mode=0o700)
                run_as.own(path, 0o2775)
            else:
                raise HarnessError(f"{self.name}: volume {name} has a kind the harness does not model")
            out[name] = path
        return out

    def _write_items(self, path: Path, data: Mapping[str, str], items: list[Manifest] | None) -> None:
        chosen = {i["key"]: i["path"] for i in items} if items else {k: k for k in data}
        for key, rel in chosen.items():
            target = path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(self.remap(data[key]))
            target.chmod(0o644)

    def mounts(self, container: Manifest) -> dict[str, str]:
        """mountPath -> local path, for one container."""
        out = {}
        for m in container.get("volumeMounts", []):
            local = self.volumes[m["name"]]
            out[m["mountPath"]] = str(local / m["subPath"]) if m.get("subPath") else str(local)
        return out

    def all_mounts(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for c in [*self.spec.get("initContainers", []), *self.spec["containers"]]:
            out.update(self.mounts(c))
        return out

    def remap(self, text: str, mounts: Mapping[str, str] | None = None) -> str:
        """Rewrite every mount path in ``text`` to its local directory."""
        mounts = self.all_mounts() if mounts is None else mounts
        if not mounts:
            return text
        # One pass: a path already rewritten (under /tmp/...) is never rewritten again.
        by_path = {m.rstrip("/") or "/": local for m, local in mounts.items()}
        alternatives = "|".join(re.escape(m) for m in sorted(by_path, key=len, reverse=True))
        pattern = re.compile(r"(?<![\w./-])(" + alternatives + r")(?=$|[/\s\"',;:)=])", re.MULTILINE)
        return pattern.sub(lambda m: by_path[m.group(1)], text)

    def run_init_containers(self) -> None:
        """The pod's init containers, verbatim and in order, as the kubelet runs them
        before any container starts; each must exit 0."""
        if self._initialised:
            return
        self._initialised = True
        for spec in self.spec.get("initContainers", []):
            c = Container(self, spec)
            r = procs.run(c.argv(), env=c.host_env(), run_as=c.run_as, cwd=self.dir, timeout=60)
            if r.returncode != 0:
                output = (r.stdout + r.stderr)[-300:]
                raise HarnessError(f"{self.name}: init container {c.name} exited {r.returncode}: {output}")

    def stop(self) -> None:
        procs.stop_together(self.procs)


class Container:
    def __init__(self, pod: Pod, spec: Manifest) -> None:
        self.pod = pod
        self.spec = spec
        self.name: str = spec["name"]
        self.image: str = spec.get("image", "")
        self.run_as = pod.run_as(spec)
        self.mounts = pod.mounts(spec)
        self.pid_file = pod.dir / f"{self.name}.pid"
        self.clock = pod.dir / f"{self.name}.clock"
        self.clients_file = pod.dir / f"{self.name}.clients"
        self.signal_log = pod.dir / f"{self.name}.signals"
        self.signals: dict[str, str] = {}
        self.socket_dir: str | None = None

    @property
    def image_version(self) -> str:
        """The image tag without a leading v or variant: ``v1.25.2-p0`` -> ``1.25.2``."""
        tag = self.image.split("@")[0].rsplit(":", 1)[-1]
        return tag.lstrip("v").split("-")[0]

    def env(self) -> dict[str, str]:
        env = container_env(self.pod.cluster, self.spec, f"{self.pod.name}/{self.name}", self.pod.name)
        return {k: self.pod.remap(v, self.mounts) for k, v in env.items()}

    def argv(self) -> list[str]:
        """command + args, $(VAR)-expanded and mount-remapped (empty: the image's default)."""
        env = self.env()
        words = [*self.spec.get("command", []), *self.spec.get("args", [])]
        return [self.pod.remap(expand(str(w), env), self.mounts) for w in words]

    def host_env(self) -> dict[str, str]:
        """The container's env plus what the host tools need to run at all."""
        path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
        return {"PATH": path, "HOME": str(self.pod.dir), "LANG": "C.UTF-8", **self._passwd(), **self.env()}

    def _passwd(self) -> dict[str, str]:
        """The image has a passwd entry for its uid (postgres looks itself up); the host may
        not: nss_wrapper supplies one, as the postgres image does for arbitrary uids."""
        uid, gid = self.run_as.uid, self.run_as.gid
        if not self.run_as.active:
            return {}
        try:
            pwd.getpwuid(uid)
            return {}
        except KeyError:
            pass
        passwd, group = self.pod.dir / "passwd", self.pod.dir / "group"
        # The images' own user names (postgres and pgbouncer run as "postgres"; edoburu's
        # ini says ``user = postgres``), then the container's name.
        names = dict.fromkeys(("postgres", "redis", self.name))
        passwd.write_text("".join(f"{n}:x:{uid}:{gid}:{n}:{self.pod.dir}:/bin/sh\n" for n in names))
        group.write_text(f"{self.name}:x:{gid}:\n")
        for f in (passwd, group):
            f.chmod(0o644)
        return {
            "LD_PRELOAD": tools.find("libnss_wrapper.so"),
            "NSS_WRAPPER_PASSWD": str(passwd),
            "NSS_WRAPPER_GROUP": str(group),
        }

    # --- the pod's view, for probes and hooks ------------------------------------------------------

    def shim_dir(self) -> Path:
        d = self.pod.dir / f"{self.name}.bin"
        d.mkdir(exist_ok=True)
        d.chmod(0o755)
        # The pod's user may not read the project's venv (under /root): a system python runs the shim.
        python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
        shutil.copy(SHIM, d / "podshim.py")
        for tool in SHIMMED:
            f = d / tool
            f.write_text(f'#!/bin/sh\nexec "{python}" -S "{d / "podshim.py"}" {tool} "$@"\n')
            f.chmod(0o755)
        for f in (self.clock, self.clients_file, self.signal_log):
            if not f.exists():
                f.write_text("0" if f != self.signal_log else "")
            self.run_as.own(f, 0o666)
        cfg = {
            "ports": {str(k): v for k, v in self.pod.ports.items()},
            "services": self.pod.cluster.service_map(),
            "mounts": self.mounts,
            "socket_dir": self.socket_dir,
            "tools": {t: tools.find(t) for t in ("redis-cli", "pg_isready", "psql")},
            "pid_file": str(self.pid_file),
            "program": Path(self.argv()[0]).name if self.argv() else self.name,
            "signals": self.signals,
            "clock": str(self.clock),
            "clients_file": str(self.clients_file),
            "signal_log": str(self.signal_log),
        }
        (self.pod.dir / f"{self.name}.pod.json").write_text(json.dumps(cfg))
        (self.pod.dir / f"{self.name}.pod.json").chmod(0o644)
        return d

    def pod_env(self) -> dict[str, str]:
        env = self.host_env()
        env["PATH"] = f"{self.shim_dir()}:{env['PATH']}"
        env["VIBEYARD_POD"] = str(self.pod.dir / f"{self.name}.pod.json")
        return env

    def exec_in_pod(self, command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        words = [self.pod.remap(w, self.mounts) for w in command]
        if len(words) == 3 and Path(words[0]).name in ("sh", "bash") and words[1] == "-c":
            # In the pod the container's process is PID 1 of its own PID namespace; here it is
            # not. The shell's builtin ``kill`` would bypass the shim on PATH that maps PID 1
            # to the container's process, so the script sees a ``kill`` function that calls it.
            shim = self.shim_dir() / "kill"
            words[2] = f'kill() {{ "{shim}" "$@"; }}; {words[2]}'
        return procs.run(words, env=self.pod_env(), run_as=self.run_as, timeout=timeout, cwd=self.pod.dir)

    def probe(self, kind: str) -> tuple[bool, str]:
        """Run the rendered probe once; (passed, what happened)."""
        spec = self.spec.get(kind)
        if spec is None:
            return True, "none"
        timeout = float(spec.get("timeoutSeconds", 1))
        if "exec" in spec:
            try:
                r = self.exec_in_pod(spec["exec"]["command"], timeout)
            except subprocess.TimeoutExpired:
                return False, f"timed out after {timeout}s"
            return r.returncode == 0, f"exit {r.returncode} {(r.stdout + r.stderr).strip()[:200]}"
        if "tcpSocket" in spec:
            port = self.pod.target_port(spec["tcpSocket"]["port"])
            with socket.socket() as s:
                s.settimeout(timeout)
                return s.connect_ex(("127.0.0.1", port)) == 0, f"tcp {port}"
        if "httpGet" in spec:
            port = self.pod.target_port(spec["httpGet"]["port"])
            url = f"http://127.0.0.1:{port}{spec['httpGet'].get('path', '/')}"
            try:
                with urllib.request.urlopen(url, timeout=timeout) as resp:
                    return 200 <= resp.status < 400, f"http {resp.status}"
            except OSError as err:
                return False, f"http {err}"
        raise HarnessError(f"{self.pod.name}/{self.name}: {kind} has a handler the harness lacks")
