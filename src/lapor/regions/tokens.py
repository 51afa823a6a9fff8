"""Search tokens of region names: lowercase ASCII words that both databases index and compare alike.

Names and queries go through the same ``name_tokens`` so that "Regapu'u" (written with a straight or
a curly apostrophe) and "REGAPUU" meet on one token. Tokens only ever hold ``[0-9a-z]``: for such
strings the byte order of SQLite and the collation order of PostgreSQL (C or a linguistic locale)
agree, which is what lets a prefix be searched as an index range on either database.
"""

from __future__ import annotations

import re
import unicodedata

# Apostrophes join a word ("Soka'an" is one word); the CSV writes some of them as a double quote.
# Curly apostrophes are not ASCII: the ASCII folding drops them, which joins the word just the same.
JOINING_CHARACTERS = re.compile(r"['`\"]")
NON_TOKEN_CHARACTERS = re.compile(r"[^0-9a-z]+")
TOKEN_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105 - an alphabet, not a secret
MAX_TOKEN_LENGTH = 100


def name_tokens(text: str) -> list[str]:
    """The distinct search tokens of a name or a query, in their order of appearance."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    words = NON_TOKEN_CHARACTERS.split(JOINING_CHARACTERS.sub("", ascii_text))
    return list(dict.fromkeys(word[:MAX_TOKEN_LENGTH] for word in words if word))


def prefix_upper_bound(prefix: str) -> str | None:
    """The smallest token string greater than every token starting with ``prefix``.

    ``"sel"`` gives ``"sem"``, ``"saz"`` gives ``"sb"``, ``"zz"`` gives None (no upper bound). Only
    characters of the token alphabet are produced, so the bound compares the same on every collation.
    """
    characters = list(prefix)
    while characters:
        position = TOKEN_ALPHABET.find(characters[-1])
        if position == -1:
            raise ValueError(f"{prefix!r} is not a search token")
        if position + 1 < len(TOKEN_ALPHABET):
            characters[-1] = TOKEN_ALPHABET[position + 1]
            return "".join(characters)
        characters.pop()
    return None
