from pathlib import Path

import pytest

from core.errors import ConfigurationError
from store.migrate import MIGRATIONS_DIR, discover


def test_the_shipped_migrations_are_numbered_without_gaps() -> None:
    migs = discover(MIGRATIONS_DIR)
    assert [m.version for m in migs] == list(range(1, len(migs) + 1))
    assert migs[0].name == "foundation"


def test_a_gap_in_numbering_is_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0003_c.sql").write_text("SELECT 1;")
    with pytest.raises(ConfigurationError, match="without gaps"):
        discover(tmp_path)


def test_a_badly_named_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "1_a.sql").write_text("SELECT 1;")
    with pytest.raises(ConfigurationError, match="not understood"):
        discover(tmp_path)
