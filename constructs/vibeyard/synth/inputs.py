"""Which environments a synth renders, and with which image.

The image comes from, in order: CD's environment variables, the committed
``releases/<env>.json``, the code. Everything is validated here, before any
construct exists, so a mistake is one line and never a jsii trace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ..config import ENVIRONMENTS, ConfigError, EnvConfig, validate, validate_together
from .releases import DIGEST_KEY, TAG_KEY, load_release, release_rel, release_text

# CD pins the image per release without a code edit; these are the only knobs
# read from the process environment.
IMAGE_TAG_VAR = "VIBEYARD_IMAGE_TAG"
IMAGE_DIGEST_VAR = "VIBEYARD_IMAGE_DIGEST"


def resolve(
    names: Sequence[str] | None,
    overrides: Mapping[str, str] | None = None,
    environments: Mapping[str, EnvConfig] = ENVIRONMENTS,
    root: Path | None = None,
) -> list[EnvConfig]:
    """The validated configs for ``names`` (all when empty)."""
    chosen = list(names) if names else list(environments)
    for name in chosen:
        if name not in environments:
            known = ", ".join(sorted(environments))
            raise ConfigError(f"{name}: unknown environment {name!r}: choose one of {known}")
    validate_together(environments)
    overrides = overrides or {}
    result = []
    for name in chosen:
        cfg = environments[name]
        if cfg.name != name:
            raise ConfigError(
                f"{name}: name={cfg.name!r} is invalid: the key it is registered under, {name!r}"
            )
        release = load_release(root, name) if root is not None else {}
        from_file: set[str] = set()
        if overrides.get(IMAGE_TAG_VAR):
            # A new tag is a new image: it never inherits the previous release's digest.
            pin = {TAG_KEY: overrides[IMAGE_TAG_VAR], DIGEST_KEY: overrides.get(IMAGE_DIGEST_VAR, "")}
        elif overrides.get(IMAGE_DIGEST_VAR):
            # The same tag, now pinned by digest: the tag stays what was released.
            pin = {TAG_KEY: release.get(TAG_KEY, cfg.image.tag), DIGEST_KEY: overrides[IMAGE_DIGEST_VAR]}
            from_file = {TAG_KEY} if TAG_KEY in release else set()
        else:
            pin = release
            from_file = set(release)
        if pin:
            image = replace(cfg.image, tag=pin[TAG_KEY], digest=pin.get(DIGEST_KEY) or None)
            cfg = replace(cfg, image=image)
        try:
            validate(cfg, name)
        except ConfigError as err:
            raise _blame_release_file(err, name, from_file) from None
        result.append(cfg)
    return result


def _blame_release_file(err: ConfigError, env: str, from_file: set[str]) -> ConfigError:
    """A bad tag or digest read from ``releases/<env>.json`` is that file's mistake,
    not the code's ``image.digest``: name the file, so nobody edits the wrong place."""
    message = str(err)
    for key in sorted(from_file):
        field = f"{env}: image.{key}="
        if message.startswith(field):
            return ConfigError(f"{env}: {release_rel(env)}: {key}={message[len(field) :]}")
    return err


def records(configs: Sequence[EnvConfig], overrides: Mapping[str, str]) -> dict[str, str]:
    """The ``releases/<env>.json`` text a synth must record, by environment.

    Any CD override (a tag, or a digest on its own) is recorded, so that the
    next plain synth renders exactly the same image instead of dropping it.
    """
    if not (overrides.get(IMAGE_TAG_VAR) or overrides.get(IMAGE_DIGEST_VAR)):
        return {}
    return {cfg.name: release_text(cfg.image.tag, cfg.image.digest) for cfg in configs}
