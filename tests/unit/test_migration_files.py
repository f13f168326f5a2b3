from pathlib import Path

import pytest

from core.errors import ConfigurationError
from store.migrate import MIGRATIONS_DIR, discover


def test_the_shipped_migrations_are_in_increasing_order() -> None:
    migs = discover(MIGRATIONS_DIR)
    versions = [m.version for m in migs]
    assert versions == sorted(set(versions))
    assert migs[0].name == "foundation"


def test_a_number_used_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 1;")
    with pytest.raises(ConfigurationError, match="share a number"):
        discover(tmp_path)


def test_a_badly_named_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "1_a.sql").write_text("SELECT 1;")
    with pytest.raises(ConfigurationError, match="not understood"):
        discover(tmp_path)


def test_the_fast_lane_touches_devices_as_often_as_authentication_does() -> None:
    """``sillage.enter_device`` writes ``last_seen_at`` on the same schedule as ``authenticate``."""
    import re

    from ingest.testers import TOUCH_EVERY_S

    sql = [m.sql for m in discover(MIGRATIONS_DIR) if "FUNCTION sillage.enter_device" in m.sql][-1]
    m = re.search(r"v_seen < pg_catalog\.now\(\) - interval '(\d+) seconds'", sql)
    assert m is not None
    assert float(m.group(1)) == TOUCH_EVERY_S
