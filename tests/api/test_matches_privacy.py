"""No field of any match response carries a coordinate of another tester.

Every response a tester can get about a match (the list while proposed, after saying yes, and once
both said yes) is walked recursively: every key must be a known one, and no number or text may
hold the partner's home or work coordinates, at any precision down to about 1 km.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from core.coaching import LatLon
from tests.api.test_matches import build_scene, matches, profile

ALLOWED_KEYS = {
    "id", "status", "legs", "role", "origin_zone", "destination_zone", "weekdays", "depart_from",
    "depart_to", "your_co2_saved_kg_per_year", "partner_co2_saved_kg_per_year",
    "your_money_saved_eur_per_year", "partner_money_saved_eur_per_year", "zone_size_m", "partner",
    "display_name", "contact",
}  # fmt: skip


def leaves(value: Any, path: str = "$") -> list[tuple[str, Any]]:
    """Every (path, leaf) of a decoded JSON document; asserts that every key is known."""
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            assert k in ALLOWED_KEYS, f"unexpected field {path}.{k}"
            out += leaves(v, f"{path}.{k}")
        return out
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in leaves(v, f"{path}[{i}]")]
    return [(path, value)]


def assert_no_coordinate_of(document: Any, places: list[LatLon]) -> None:
    coordinates = [c for place in places for c in place]
    for path, leaf in leaves(document):
        if isinstance(leaf, bool) or leaf is None:
            continue
        if isinstance(leaf, int | float):
            for c in coordinates:
                assert abs(leaf - c) > 0.01, f"{path} = {leaf} is close to a partner coordinate {c}"
        else:
            text = str(leaf)
            for c in coordinates:
                for digits in range(1, 7):
                    assert f"{c:.{digits}f}" not in text, f"{path} holds a partner coordinate {c}"


async def test_no_match_response_contains_a_coordinate_of_another_tester(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, invite_code: str
) -> None:
    s = await build_scene(http, app_conn, invite_code)
    await profile(http, s.a, "Anne")
    await profile(http, s.b, "Bruno")
    seen: list[tuple[Any, list[LatLon]]] = []
    seen.append((await matches(http, s.a), s.places[s.b.user_id]))
    seen.append((await matches(http, s.b), s.places[s.a.user_id]))
    [m] = await matches(http, s.a)
    r = await http.post(f"/v1/matches/{m['id']}/interest", headers=s.a.auth)
    seen.append((r.json(), s.places[s.b.user_id]))
    r = await http.post(f"/v1/matches/{m['id']}/interest", headers=s.b.auth)
    seen.append((r.json(), s.places[s.a.user_id]))
    seen.append((await matches(http, s.a), s.places[s.b.user_id]))
    seen.append((await matches(http, s.b), s.places[s.a.user_id]))
    assert seen[-1][0][0]["status"] == "mutual"
    for document, partner_places in seen:
        assert_no_coordinate_of(document, partner_places)


def test_the_inspection_would_catch_a_leaked_coordinate() -> None:
    home = (46.1700, -1.1000)
    with pytest.raises(AssertionError, match="holds a partner coordinate"):
        assert_no_coordinate_of({"id": "x", "legs": [{"origin_zone": "near 46.170"}]}, [home])
    with pytest.raises(AssertionError, match="close to a partner coordinate"):
        assert_no_coordinate_of({"legs": [{"depart_from": -1.1003}]}, [home])
    with pytest.raises(AssertionError, match="unexpected field"):
        assert_no_coordinate_of({"legs": [{"home": "somewhere"}]}, [home])
