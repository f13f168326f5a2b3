"""What may not reach a log line: a tester's role (and schema) name, and any id.

An error's text can carry them (PostgreSQL names the role or the key a statement met, a traceback
quotes them), and nothing in a log may relate to a tester once they are erased (``sillage rights
verify-erased --log-file``). The API's log formatters mask every line with :func:`masked`; the
pipeline masks the error texts it logs with it too, for processes that log without those
formatters (the CLI).
"""

from __future__ import annotations

import re

_TESTER_ROLE = re.compile(r"sillage_u_[0-9a-fA-F]{32}")
_ANY_ID = re.compile(r"\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\b")


def masked(text: str) -> str:
    """``text`` with tester role names and ids replaced (``sillage_u_<tester>``, ``<id>``)."""
    return _ANY_ID.sub("<id>", _TESTER_ROLE.sub("sillage_u_<tester>", text))
