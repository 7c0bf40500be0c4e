"""Kubernetes resource quantities, parsed strictly.

The API server accepts a wide grammar; we accept the subset people actually write
(``250m``, ``1``, ``0.5``, ``512Mi``, ``1.5Gi``, ``8Gi``) so a typo such as ``512mb``
or ``1.5cores`` fails at synth instead of at ``kubectl apply``. Anything that is not
a string (``None``, ``512``) is "not a quantity" too, never a ``TypeError``: the
config is edited by hand and every mistake must end as one readable line.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

# ASCII digits only, matched in full (``$`` alone would accept a trailing newline).
_CPU = re.compile(r"([0-9]+)m|([0-9]+(?:\.[0-9]{1,3})?)")
_MEM = re.compile(r"([0-9]+(?:\.[0-9]{1,3})?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?")
_MEM_FACTORS = {
    None: 1,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
    "Pi": 1024**5,
    "Ei": 1024**6,
    "k": 1000,
    "M": 1000**2,
    "G": 1000**3,
    "T": 1000**4,
    "P": 1000**5,
    "E": 1000**6,
}

CPU_ALLOWED = "millicores like '250m' or cores like '1' or '0.5'"
MEMORY_ALLOWED = "bytes with a suffix Ki, Mi, Gi, Ti (or k, M, G, T), like '512Mi'"


def cpu_millis(value: object) -> int | None:
    """Millicores, or None when ``value`` is not a CPU quantity."""
    m = _CPU.fullmatch(value) if isinstance(value, str) else None
    if not m:
        return None
    if m.group(1) is not None:
        return int(m.group(1))
    return int(Decimal(m.group(2)) * 1000)


def memory_bytes(value: object) -> int | None:
    """Bytes (a fraction rounds up, as the API server does), or None when
    ``value`` is not a memory quantity."""
    m = _MEM.fullmatch(value) if isinstance(value, str) else None
    if not m:
        return None
    return math.ceil(Decimal(m.group(1)) * _MEM_FACTORS[m.group(2)])
