"""Reading a committed input file so that every way it can be damaged is one line.

``Path.read_text`` turns a binary file into a ``UnicodeDecodeError`` traceback and
a folder in the file's place into ``IsADirectoryError``; ``is_file()`` checks
would instead *skip* such a file, which for ``releases/`` silently rolls a
release back. So there is exactly one "absent" case (nothing at that path), and
every other failure becomes the caller's one-line error.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path


def read_text(path: Path, rel: str, fail: Callable[[str], Exception]) -> str | None:
    """The UTF-8 text at ``path``, or None when nothing is there.

    ``rel`` is the path as the user knows it; ``fail(why)`` builds the error.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if os.path.lexists(path):
            raise fail("a symbolic link to a missing file") from None
        return None
    except IsADirectoryError:
        raise fail("a folder, not a file") from None
    except NotADirectoryError:
        parent = rel.rsplit("/", 1)[0] if "/" in rel else "."
        raise fail(f"{parent} is a file, not a folder") from None
    except OSError as err:
        raise fail(f"cannot be read: {os.strerror(err.errno or errno.EIO)}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise fail(f"not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start})") from None
