"""``make diff``: a reviewer's view of what a change does to the rendered output.

It compares BASE's committed ``dist/`` (exact: CI keeps it equal to a fresh synth) with
the working tree's, object by object, and classifies what a real cluster would refuse or
lose (blocking) and what a reviewer should notice (informational). See docs/review.md.

It reads only files and git, never the constructs: the rendered output is the interface.
"""
