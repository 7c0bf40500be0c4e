"""The one exception a user's mistake raises: its message is the whole one-line report."""


class ReviewError(Exception):
    """A mistake the user can fix (a bad BASE, a malformed upgrade note): one line, exit 2."""
