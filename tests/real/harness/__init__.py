"""Runs what dist/<env> renders with the real software, on loopback, in a temp dir.

See docs/testing.md. ``tools`` finds the binaries, ``procs`` starts and always stops
processes, ``pods`` turns a rendered pod into a local one (env, volumes, probes),
``servers`` starts redis/postgres/pgbouncer/exporters from such pods.
"""
