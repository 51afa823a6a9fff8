"""Tracking IDs: short, unguessable, easy to read aloud and to type on a phone keypad.

Nine symbols from a 29-symbol alphabet without the look-alikes 0/O, 1/I/L and U/V, shown as three
groups ("K7M-4QX-9TB"). Eight are random (29**8, about 5e11 possibilities: guessing one of a
million stored reports takes ~500,000 tries on average, which rate limits make impractical); the
ninth is a check symbol (weighted sum modulo the prime 29) that catches every single mistyped
symbol and every swap of two neighbours.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
RANDOM_LENGTH = 8
GROUP = 3
_INDEX = {symbol: position for position, symbol in enumerate(ALPHABET)}


def _check_symbol(body: str) -> str:
    total = sum((position + 1) * _INDEX[symbol] for position, symbol in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def new_tracking_id() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + _check_symbol(body)


def format_tracking_id(tracking_id: str) -> str:
    return "-".join(tracking_id[start : start + GROUP] for start in range(0, len(tracking_id), GROUP))


def parse_tracking_id(text: str) -> str | None:
    """The stored form of a typed tracking ID, or None when it cannot be one (wrong length or check)."""
    cleaned = "".join(character for character in text.upper() if character.isalnum())
    if len(cleaned) != RANDOM_LENGTH + 1 or any(symbol not in _INDEX for symbol in cleaned):
        return None
    body, check = cleaned[:-1], cleaned[-1]
    return cleaned if _check_symbol(body) == check else None
