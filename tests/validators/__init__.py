"""Validators the security tests run on synthesized manifests.

Helper modules, not tests: each function takes an environment's rendered
objects (or a directory of them) and returns violations as one line each,
``<env>: <Kind>/<name>: <rule>: <detail>``, so a failing test names the
environment, the object and the rule without a traceback to read.
"""
