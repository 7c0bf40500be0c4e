"""The environments, as data: ``base.py`` plus one module per environment.

Every module here except ``base`` is an environment named after its file
(``qa.py`` renders ``dist/qa``). It defines ``OVERLAY``, a dict of what it
changes, and may name the environment it starts from with ``FROM`` (default:
the base alone). Blocks merge key by key; any other value replaces, and
``None`` clears an optional value. ``make new-env NAME=qa FROM=staging`` writes
such a module. docs/configuration.md has the rules and every field.
"""
