"""Canonical JSON and hashes: the same document always gives the same bytes."""

import hashlib
import json
import math
from typing import Any


def _check_finite(value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("canonical JSON cannot hold NaN or infinity")
    if isinstance(value, dict):
        for item in value.values():
            _check_finite(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_finite(item)


def canonical_json(document: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8; floats in Python's shortest round-trip form."""
    _check_finite(document)
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
