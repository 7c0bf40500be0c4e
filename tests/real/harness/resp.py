"""A minimal Redis client (RESP2) for the tests' own checks: no dependency, fast enough
to fill a Redis, and it shows the server's error text as is."""

from __future__ import annotations

import socket
from typing import Any


class RespError(Exception):
    pass


class Resp:
    def __init__(self, port: int, password: str | None = None, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = self.sock.makefile("rb")
        if password:
            self.call("AUTH", password)

    def close(self) -> None:
        self.buf.close()
        self.sock.close()

    def __enter__(self) -> Resp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, *args: str | bytes | int) -> None:
        out = [f"*{len(args)}\r\n".encode()]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.sock.sendall(b"".join(out))

    def read(self) -> Any:
        line = self.buf.readline()
        if not line:
            raise RespError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.buf.read(n + 2)[:-2]
            return data.decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RespError(f"unexpected reply {line!r}")

    def call(self, *args: str | bytes | int) -> Any:
        self.send(*args)
        return self.read()

    def info(self, section: str) -> dict[str, str]:
        text: str = self.call("INFO", section)
        return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
