"""What the web tier, the workers and the migration share: one image, one set of
settings, one Secret, and the variables built from them."""

from __future__ import annotations

from ..pod import RunAs

# The app image's own non-root user, for every process that runs the image.
APP_USER = RunAs(uid=1001)
