"""Names made into parts of file names and keys: lower-case ASCII, accents dropped."""

from __future__ import annotations

import re
import unicodedata


def slug(text: str, *, keep: str = "") -> str:
    """``text`` in lower-case ASCII letters and digits (accents dropped by NFKD decomposition), each
    run of other characters one hyphen, none at either end; the characters of ``keep`` are kept as
    they are, and stripped from the ends too. ``"GTFS Yélo 2026"`` is ``"gtfs-yelo-2026"``."""
    plain = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return re.sub(rf"[^a-z0-9{re.escape(keep)}]+", "-", plain).strip("-" + keep)
