"""Which environments a synth renders, and with which image.

The image comes from, in order: CD's environment variables, the committed
release record ``dist/releases/<env>.json``, the code. A synth with a CD override
records it, so the next plain synth renders the same image instead of rolling
back; the record lives in ``dist/`` so that it and the manifests it produced are
published in one swap (``publish.py``). Argo CD and ``kubectl apply -R`` read
only the environment folders, never ``dist/releases/``. A damaged record is one
``ConfigError`` line, never skipped (which would roll the release back).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..config import ConfigError, EnvConfig, load, load_all
from ..config.inputs import read_text

IMAGE_TAG_VAR, IMAGE_DIGEST_VAR = "VIBEYARD_IMAGE_TAG", "VIBEYARD_IMAGE_DIGEST"
RELEASES = "releases"
TAG, DIGEST = "tag", "digest"
EXAMPLE = '{"tag": "3f2c1ab"}'


def release_rel(env: str) -> str:
    return f"dist/{RELEASES}/{env}.json"


def load_release(root: Path, env: str) -> tuple[dict[str, str], str | None]:
    """The record's ``{"tag", "digest"}`` and its text, or ``({}, None)`` when there is none."""
    rel = release_rel(env)

    def fail(why: str) -> ConfigError:
        return ConfigError(f"{env}: {rel} is invalid: {why}")

    text = read_text(root / rel, rel, fail)
    if text is None:
        return {}, None
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as err:
        raise fail(f"not JSON ({err.msg} at line {err.lineno}); write {EXAMPLE}") from None
    except RecursionError:
        raise fail(f"nested too deeply to be a release record; write {EXAMPLE}") from None
    if not isinstance(data, dict):
        raise fail(f"not a JSON object; write {EXAMPLE}")
    if extra := sorted(set(data) - {TAG, DIGEST}):
        raise fail(f"unknown key {extra[0][:40]!r}: only {TAG!r} and an optional {DIGEST!r}, as in {EXAMPLE}")
    if not isinstance(data.get(TAG), str) or not isinstance(data.get(DIGEST, ""), str | None):
        raise fail(f"{TAG!r} must be a string and {DIGEST!r} a string or absent, as in {EXAMPLE}")
    return {k: v for k, v in data.items() if v is not None}, text


def release_text(tag: str, digest: str | None) -> str:
    return json.dumps({TAG: tag, **({DIGEST: digest} if digest else {})}, indent=2, sort_keys=True) + "\n"


def _pin(cfg: EnvConfig, environ: Mapping[str, str], root: Path) -> tuple[dict[str, Any], set[str]]:
    """The image overlay for ``cfg``, and which of its keys came from the record."""
    release, _ = load_release(root, cfg.name)
    if environ.get(IMAGE_TAG_VAR):  # a new tag is a new image: never the old digest
        return {TAG: environ[IMAGE_TAG_VAR], DIGEST: environ.get(IMAGE_DIGEST_VAR) or None}, set()
    if environ.get(IMAGE_DIGEST_VAR):  # the released tag, now pinned by digest
        tag = release.get(TAG, cfg.image.tag)
        return {TAG: tag, DIGEST: environ[IMAGE_DIGEST_VAR]}, {TAG} & set(release)
    return dict(release), set(release)


def resolve(
    names: Sequence[str], environ: Mapping[str, str], root: Path
) -> tuple[list[EnvConfig], list[EnvConfig]]:
    """``(the configs to render, with their images; every config)``. Every environment is
    checked, even for a one-environment synth: ``dist/argocd`` describes them all."""
    every = load_all()
    unknown = [n[:40] for n in names if n not in every]
    if unknown:
        raise ConfigError(
            *(f"{n}: unknown environment {n!r}: choose one of {', '.join(every)}" for n in unknown)
        )
    result = []
    for name in names or list(every):
        pin, from_file = _pin(every[name], environ, root)
        try:
            result.append(load(name, {"image": pin}) if pin else every[name])
        except ConfigError as err:  # a bad tag read from a record is the record's mistake
            blame = {f"{name}: image.{k}=": f"{name}: {release_rel(name)}: {k}=" for k in from_file}
            lines = [
                next((line.replace(a, b, 1) for a, b in blame.items() if line.startswith(a)), line)
                for line in err.lines
            ]
            raise ConfigError(*lines) from None
    return result, list(every.values())


def releases(
    every: Sequence[EnvConfig], chosen: Sequence[EnvConfig], environ: Mapping[str, str], root: Path
) -> dict[str, str]:
    """The whole of ``dist/releases/``: each record as it is, the overridden ones replaced."""
    out = {f"{c.name}.json": text for c in every if (text := load_release(root, c.name)[1]) is not None}
    if environ.get(IMAGE_TAG_VAR) or environ.get(IMAGE_DIGEST_VAR):
        out.update({f"{c.name}.json": release_text(c.image.tag, c.image.digest) for c in chosen})
    return dict(sorted(out.items()))
