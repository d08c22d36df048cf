"""Counter-based randomness for the SYNTHETIC generator: every draw is a pure function of
(seed, stream, key), so a cell's value depends only on the seed and the cell."""

from __future__ import annotations

from datetime import date

import numpy as np

U64 = np.uint64
MASK = (1 << 64) - 1


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijective scramble of 64-bit integers."""
    x = x ^ (x >> U64(30))
    x = x * U64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> U64(27))
    x = x * U64(0x94D049BB133111EB)
    out: np.ndarray = x ^ (x >> U64(31))
    return out


def hash64(seed: int, stream: int, keys: np.ndarray) -> np.ndarray:
    """64 random bits for each key, a pure function of (seed, stream, key)."""
    salt = U64((seed * 0x9E3779B97F4A7C15 + stream * 0xD1B54A32D192ED03 + 1) & MASK)
    return mix(mix(keys.astype(np.uint64) ^ salt) + salt)


def halves(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two independent U(0,1) from the high and low 32 bits of a hash."""
    scale = 2.0**-32
    hi = ((h >> U64(32)).astype(np.float64) + 0.5) * scale
    lo = ((h & U64(0xFFFFFFFF)).astype(np.float64) + 0.5) * scale
    return hi, lo


def uniform(seed: int, stream: int, keys: np.ndarray) -> np.ndarray:
    """U(0,1) for each key, a pure function of (seed, stream, key)."""
    return halves(hash64(seed, stream, keys))[0]


def normal(seed: int, stream: int, keys: np.ndarray) -> np.ndarray:
    """N(0,1) for each key (Box-Muller on the two halves of one hash)."""
    u1, u2 = halves(hash64(seed, stream, keys))
    z: np.ndarray = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return z


def lognormal(seed: int, stream: int, keys: np.ndarray, sigma: float) -> np.ndarray:
    """Mean-one lognormal noise."""
    return np.exp(sigma * normal(seed, stream, keys) - sigma * sigma / 2)


def iso_number(code: str) -> int:
    return (ord(code[0]) - 65) * 676 + (ord(code[1]) - 65) * 26 + (ord(code[2]) - 65)


def month_ordinal(m: date) -> int:
    return m.year * 12 + m.month - 1


def month_range(start: date, end: date) -> list[date]:
    return [
        date(o // 12, o % 12 + 1, 1) for o in range(month_ordinal(start), month_ordinal(end) + 1)
    ]
