"""Carpool matches over real HTTP: who is matched, consent, answers, contact, and no coordinates.

Each test builds its own scene of synthetic commuters (trips inserted into their own partitions),
far from every other test's scene so that runs over the whole session database do not mix them.
"""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from core.coaching import LatLon
from ingest import carpool
from store import carpool as carpool_db
from tests.support.testers import Enrolled, enrol
from tests.unit.carpool.builders import HOME, WORK, commutes, moved, seed_commutes, weekdays_back

_scenes = itertools.count()
_BASE_EAST_M = random.uniform(-40_000, 40_000)


class Scene(msgspec.Struct, frozen=True, kw_only=True):
    a: Enrolled  # drives home -> work at 07:45, back at 17:30
    b: Enrolled  # 400 m and 300 m away, 5 minutes later: fits a
    c: Enrolled  # like a, one hour later
    d: Enrolled  # like a, but never consented to carpool matching
    places: dict[uuid.UUID, list[LatLon]]  # each tester's home and work


async def build_scene(http: httpx.AsyncClient, conn: asyncpg.Connection, invite_code: str) -> Scene:
    k = next(_scenes)
    home = moved(HOME, north_m=15_000 * (k % 7), east_m=_BASE_EAST_M + 15_000 * (k // 7))
    work = moved(WORK, north_m=15_000 * (k % 7), east_m=_BASE_EAST_M + 15_000 * (k // 7))
    consenting = ("coaching", "carpool_matching")
    a, b, c = [await enrol(http, invite_code, *consenting) for _ in range(3)]
    d = await enrol(http, invite_code, "coaching")
    days = weekdays_back(4)
    plan = {
        a: (home, work, "07:45", "17:30"),
        b: (moved(home, north_m=400), moved(work, east_m=300), "07:50", "17:35"),
        c: (moved(home, east_m=-200), work, "08:45", "18:30"),
        d: (moved(home, east_m=200), work, "07:45", "17:30"),
    }
    for who, (h, w, out, back) in plan.items():
        await seed_commutes(
            conn, who.user_id, commutes(days, home=h, work=w, leave_home=out, leave_work=back)
        )
    await carpool.run(conn, now=datetime.now(UTC))
    return Scene(a=a, b=b, c=c, d=d, places={who.user_id: [p[0], p[1]] for who, p in plan.items()})


async def matches(http: httpx.AsyncClient, who: Enrolled) -> list[dict[str, Any]]:
    r = await http.get("/v1/matches", headers=who.auth)
    assert r.status_code == 200, r.text
    body: list[dict[str, Any]] = r.json()
    return body


async def profile(http: httpx.AsyncClient, who: Enrolled, name: str) -> None:
    r = await http.put(
        "/v1/me/carpool", headers=who.auth, json={"display_name": name, "contact": f"{name}@example.org"}
    )
    assert r.status_code == 200, r.text


async def revoke(conn: asyncpg.Connection, who: Enrolled) -> None:
    await conn.execute(
        "UPDATE sillage.consents SET revoked_at = now() WHERE user_id = $1 AND purpose = 'carpool_matching'",
        who.user_id,
    )


async def test_two_commuters_whose_trips_fit_see_the_same_match(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, invite_code: str
) -> None:
    s = await build_scene(http, app_conn, invite_code)
    [for_a], [for_b] = await matches(http, s.a), await matches(http, s.b)
    assert for_a["id"] == for_b["id"]
    assert for_a["status"] == "proposed"
    assert len(for_a["legs"]) == 2  # morning and evening
    assert for_a["legs"][0]["weekdays"] == ["mon", "tue", "wed", "thu", "fri"]
    assert {leg["role"] for leg in for_a["legs"]} | {leg["role"] for leg in for_b["legs"]} == {
        "driver",
        "passenger",
    }
    assert for_a["legs"][0]["role"] != for_b["legs"][0]["role"]
    assert for_a["your_co2_saved_kg_per_year"] > 0
    assert for_a["your_co2_saved_kg_per_year"] == for_b["partner_co2_saved_kg_per_year"]


async def test_a_commuter_leaving_one_hour_later_is_not_matched(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, invite_code: str
) -> None:
    s = await build_scene(http, app_conn, invite_code)
    assert await matches(http, s.c) == []


async def test_a_tester_without_consent_never_appears_in_any_list(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, invite_code: str
) -> None:
    s = await build_scene(http, app_conn, invite_code)
    assert await matches(http, s.d) == []
    # d's commute fits a's exactly, yet a is proposed b only, and d has no offer at all
    assert len(await matches(http, s.a)) == 1
    assert (
        await app_conn.fetchval("SELECT count(*) FROM sillage.carpool_offers WHERE user_id = $1", s.d.user_id)
        == 0
    )
    pairs = await app_conn.fetchval(
        "SELECT count(*) FROM sillage.carpool_matches WHERE $1 IN (user_low, user_high)", s.d.user_id
    )
    assert pairs == 0


async def test_after_revocation_the_proposals_disappear_for_both_sides(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, invite_code: str
) -> None:
    s = await build_scene(http, app_conn, invite_code)
    assert len(await matches(http, s.a)) == 1
    await revoke(app_conn, s.b)
    assert await matches(http, s.b) == []
    assert await matches(http, s.a) == []
    await carpool.run(app_conn, now=datetime.now(UTC))
    assert await matches(http, s.a) == []
    assert (
        await app_conn.fetchval("SELECT count(*) FROM sillage.carpool_offers WHERE user_id = $1", s.b.user_id)
        == 0
    )


async def test_contact_details_are_shown_only_once_both_said_yes(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, invite_code: str
) -> None:
    s = await build_scene(http, app_conn, invite_code)
    await profile(http, s.a, "Anne")
    await profile(http, s.b, "Bruno")
    [m] = await matches(http, s.a)
    r = await http.post(f"/v1/matches/{m['id']}/interest", headers=s.a.auth)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "interested"
    assert r.json()["partner"] is None
    [for_b] = await matches(http, s.b)
    assert for_b["status"] == "proposed"  # a's yes is not revealed before b's
    assert for_b["partner"] is None
    r = await http.post(f"/v1/matches/{m['id']}/interest", headers=s.b.auth)
    assert r.json()["status"] == "mutual"
    assert r.json()["partner"] == {"display_name": "Anne", "contact": "Anne@example.org"}
    [for_a] = await matches(http, s.a)
    assert for_a["partner"] == {"display_name": "Bruno", "contact": "Bruno@example.org"}


async def test_saying_yes_needs_a_display_name_and_contact_first(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, invite_code: str
) -> None:
    s = await build_scene(http, app_conn, invite_code)
    [m] = await matches(http, s.a)
    r = await http.post(f"/v1/matches/{m['id']}/interest", headers=s.a.auth)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_a_declined_match_disappears_for_both_and_never_comes_back(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, invite_code: str
) -> None:
    s = await build_scene(http, app_conn, invite_code)
    [m] = await matches(http, s.b)
    r = await http.post(f"/v1/matches/{m['id']}/decline", headers=s.b.auth)
    assert r.status_code == 204
    assert await matches(http, s.a) == []
    await carpool.run(app_conn, now=datetime.now(UTC))
    assert await matches(http, s.a) == []
    assert await matches(http, s.b) == []


async def mutual_match(http: httpx.AsyncClient, s: Scene) -> dict[str, Any]:
    """a (Anne) and b (Bruno) set their profiles and both say yes to their one match: the match."""
    await profile(http, s.a, "Anne")
    await profile(http, s.b, "Bruno")
    [m] = await matches(http, s.a)
    for who in (s.a, s.b):
        assert (await http.post(f"/v1/matches/{m['id']}/interest", headers=who.auth)).status_code == 200
    return m


async def test_blocking_after_contact_withdraws_it_and_the_match(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, invite_code: str
) -> None:
    s = await build_scene(http, app_conn, invite_code)
    m = await mutual_match(http, s)
    r = await http.post(f"/v1/matches/{m['id']}/block", headers=s.a.auth)
    assert r.status_code == 204
    assert await matches(http, s.b) == []
    await carpool.run(app_conn, now=datetime.now(UTC))
    assert await matches(http, s.a) == []


async def test_a_match_of_others_is_not_found(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, invite_code: str
) -> None:
    s = await build_scene(http, app_conn, invite_code)
    [m] = await matches(http, s.a)
    # 404 before and after C has a carpool profile (without one, a 409 would answer for any id).
    r = await http.post(f"/v1/matches/{m['id']}/interest", headers=s.c.auth)
    assert r.status_code == 404
    await profile(http, s.c, "Chloé")
    for action in ("interest", "decline", "block"):
        r = await http.post(f"/v1/matches/{m['id']}/{action}", headers=s.c.auth)
        assert r.status_code == 404, action
    assert len(await matches(http, s.a)) == 1


async def test_the_carpool_profile_is_validated(http: httpx.AsyncClient, invite_code: str) -> None:
    who = await enrol(http, invite_code, "coaching", "carpool_matching")
    blank = await http.put("/v1/me/carpool", headers=who.auth, json={"display_name": " ", "contact": "x"})
    assert blank.status_code == 400
    extra = await http.put(
        "/v1/me/carpool", headers=who.auth, json={"display_name": "A", "contact": "x", "home": [46.1, -1.1]}
    )
    assert extra.status_code == 400
    assert (await http.get("/v1/me/carpool", headers=who.auth)).status_code == 404


async def test_matches_need_a_token(http: httpx.AsyncClient) -> None:
    assert (await http.get("/v1/matches")).status_code == 401


async def offers_of(conn: asyncpg.Connection, who: Enrolled) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM sillage.carpool_offers WHERE user_id = $1", who.user_id
    )
    return n


async def test_deleting_every_position_withdraws_the_offers_and_matches_made_of_them_at_once(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, invite_code: str
) -> None:
    # The offers (home and work to 100 m, the times, the weekdays) and the partners' matches built
    # from deleted trips stayed until the next run, a day later, and the export still held them.
    s = await build_scene(http, app_conn, invite_code)
    assert await offers_of(app_conn, s.a) > 0
    assert len(await matches(http, s.b)) == 1
    everything = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}
    r = await http.delete("/v1/me/fixes", params=everything, headers=s.a.auth)
    assert r.status_code == 200, r.text
    assert await offers_of(app_conn, s.a) == 0
    assert await matches(http, s.a) == await matches(http, s.b) == []  # b's one match was with a
    assert await offers_of(app_conn, s.b) > 0  # b's own offers are untouched
    await carpool.run(app_conn, now=datetime.now(UTC))  # and the next run proposes nothing with a
    assert await matches(http, s.b) == []


async def test_deleting_one_commute_of_many_keeps_the_offers_and_matches_they_still_support(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, invite_code: str
) -> None:
    s = await build_scene(http, app_conn, invite_code)
    before = await matches(http, s.b)
    r = await http.get("/v1/trips", headers=s.a.auth)
    assert r.status_code == 200, r.text
    r = await http.delete(f"/v1/me/trips/{r.json()[0]['id']}", headers=s.a.auth)
    assert r.status_code == 200, r.text
    assert await offers_of(app_conn, s.a) > 0
    assert await matches(http, s.b) == before


async def test_hiding_every_commute_withdraws_the_offers_and_showing_them_brings_them_back(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, invite_code: str
) -> None:
    s = await build_scene(http, app_conn, invite_code)
    since = (datetime.now(UTC) - timedelta(days=60)).isoformat()
    r = await http.get("/v1/trips", params={"from": since, "limit": 500}, headers=s.a.auth)
    trips = [t["id"] for t in r.json()]
    assert len(trips) >= 8  # four weeks of commutes, out and back
    for trip in trips:
        assert (await http.post(f"/v1/me/trips/{trip}/hide", headers=s.a.auth)).status_code == 204
    assert await offers_of(app_conn, s.a) == 0
    assert await matches(http, s.b) == []
    for trip in trips:
        assert (await http.post(f"/v1/me/trips/{trip}/unhide", headers=s.a.auth)).status_code == 204
    assert await offers_of(app_conn, s.a) > 0
    await carpool.run(app_conn, now=datetime.now(UTC))
    assert len(await matches(http, s.b)) == 1


async def test_a_tester_erased_during_a_run_is_passed_over(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, invite_code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The run lists the consenting testers, then enters each one's partition: one erased in between
    # stopped the whole run (every tester's matches waited for the next day).
    s = await build_scene(http, app_conn, invite_code)
    listed = await carpool_db.consenting_testers(app_conn)
    assert (await http.delete("/v1/me", headers=s.a.auth)).status_code == 200

    async def as_listed_before(conn: Any) -> list[carpool_db.Tester]:
        return listed

    monkeypatch.setattr(carpool_db, "consenting_testers", as_listed_before)
    done = await carpool.run(app_conn, now=datetime.now(UTC))
    assert done.offers > 0
    assert await matches(http, s.b) == []  # b's one match was with a


async def consent_to_matching(http: httpx.AsyncClient, who: Enrolled, granted: bool) -> None:
    r = await http.put(
        "/v1/me/consents",
        json={"consents": [{"purpose": "carpool_matching", "granted": granted}]},
        headers=who.auth,
    )
    assert r.status_code == 200, r.text


async def test_revoking_matching_withdraws_the_offers_and_a_yes_given_before(
    http: httpx.AsyncClient, app_conn: asyncpg.Connection, invite_code: str
) -> None:
    # The offers stayed until the next run, and a yes given before the revocation counted again on
    # granting anew: the partner's contact came back at once, without a new yes.
    s = await build_scene(http, app_conn, invite_code)
    m = await mutual_match(http, s)
    await consent_to_matching(http, s.a, granted=False)
    assert await offers_of(app_conn, s.a) == 0
    await consent_to_matching(http, s.a, granted=True)
    await carpool.run(app_conn, now=datetime.now(UTC))
    [for_a], [for_b] = await matches(http, s.a), await matches(http, s.b)
    assert for_a["id"] == m["id"]  # proposed again, under the same id
    assert (for_a["status"], for_a["partner"], for_b["partner"]) == ("proposed", None, None)
    r = await http.post(f"/v1/matches/{m['id']}/interest", headers=s.a.auth)  # a new yes
    assert r.json()["partner"] == {"display_name": "Bruno", "contact": "Bruno@example.org"}
