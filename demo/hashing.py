"""The demo's only source of variety: CRC-32 hashes of skus and store codes, never a random generator or
the clock, so every run produces the same chain."""

from __future__ import annotations

import zlib


def stable_hash(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode())


def fraction(value: int, low: float, high: float) -> float:
    """A number between `low` and `high`, picked by the low 16 bits of the hash `value`."""
    return low + (high - low) * (value & 0xFFFF) / 0xFFFF
