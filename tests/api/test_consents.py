"""``GET/PUT /v1/me/consents`` over real HTTP."""

from __future__ import annotations

import json

import asyncpg
import httpx
import pytest

from api.problems import TYPE_BASE
from tests.support.testers import enrol

TYPE = TYPE_BASE + "validation"


async def test_lists_every_purpose_with_its_state(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code, "coaching", "share_aggregates")
    r = await http.get("/v1/me/consents", headers=t.auth)
    assert r.status_code == 200
    states = {c["purpose"]: c for c in r.json()["consents"]}
    assert set(states) == {"coaching", "share_aggregates", "research_labels", "carpool_matching"}
    assert states["share_aggregates"]["granted"] is True
    assert states["research_labels"]["granted"] is False


async def test_revoking_sharing_records_time_and_history(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code, "coaching", "share_aggregates")
    r = await http.put(
        "/v1/me/consents",
        headers=t.auth,
        json={"consents": [{"purpose": "share_aggregates", "granted": False}]},
    )
    assert r.status_code == 200
    state = next(c for c in r.json()["consents"] if c["purpose"] == "share_aggregates")
    assert state["granted"] is False
    assert state["revoked_at"] is not None
    assert [(e["purpose"], e["action"]) for e in r.json()["history"]][-1] == ("share_aggregates", "revoke")


async def test_says_released_aggregates_stay(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code, "coaching", "share_aggregates")
    body = (await http.get("/v1/me/consents", headers=t.auth)).json()
    notice = next(c for c in body["consents"] if c["purpose"] == "share_aggregates")["revoke_notice"]
    assert "already released stay" in notice
    assert "cannot be withdrawn" in body["already_released"]


async def test_granting_again_records_a_new_grant(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code, "coaching")
    r = await http.put(
        "/v1/me/consents",
        headers=t.auth,
        json={"consents": [{"purpose": "research_labels", "granted": True, "terms_version": "2027-01"}]},
    )
    state = next(c for c in r.json()["consents"] if c["purpose"] == "research_labels")
    assert (state["granted"], state["terms_version"]) == (True, "2027-01")


async def test_coaching_cannot_be_revoked_without_leaving(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code, "coaching")
    r = await http.put(
        "/v1/me/consents", headers=t.auth, json={"consents": [{"purpose": "coaching", "granted": False}]}
    )
    assert r.status_code == 409
    assert r.json()["leave"] == "DELETE /v1/me"


async def test_unknown_purpose_is_refused(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code, "coaching")
    r = await http.put(
        "/v1/me/consents", headers=t.auth, json={"consents": [{"purpose": "advertising", "granted": True}]}
    )
    assert r.status_code == 422


async def test_a_nul_character_in_the_terms_version_is_refused(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    t = await enrol(http, invite_code, "coaching")
    change = {"purpose": "research_labels", "granted": True, "terms_version": "v\u0000"}
    r = await http.put("/v1/me/consents", headers=t.auth, json={"consents": [change]})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "U+0000" in r.json()["detail"]


@pytest.mark.parametrize(
    "changes",
    [
        [{"purpose": "research_labels", "granted": True, "terms_version": ""}],
        [{"purpose": "research_labels", "granted": True, "terms_version": "v" * 51}],
        # Out of bounds and unknown at once: the schema's 400 comes first, as Litestar's does.
        [
            {"purpose": "advertising", "granted": True},
            {"purpose": "research_labels", "granted": True, "terms_version": ""},
        ],
    ],
    ids=["empty", "too-long", "with-an-unknown-purpose"],
)
async def test_a_terms_version_out_of_bounds_is_a_400_as_a_label_out_of_bounds(
    http: httpx.AsyncClient, invite_code: str, changes: list[dict[str, object]]
) -> None:
    t = await enrol(http, invite_code, "coaching")
    label = await http.post("/v1/me/devices", json={"label": ""}, headers=t.auth)
    r = await http.put("/v1/me/consents", headers=t.auth, json={"consents": changes})
    assert (r.status_code, r.json()["type"]) == (label.status_code, label.json()["type"]) == (400, TYPE)
    assert [e["key"] for e in r.json()["errors"]] == [f"consents[{len(changes) - 1}].terms_version"]


async def test_a_boolean_sent_as_a_string_is_refused(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code, "coaching")
    change = {"purpose": "research_labels", "granted": "true"}  # was taken for true
    r = await http.put("/v1/me/consents", headers=t.auth, json={"consents": [change]})
    assert r.status_code == 400, r.text
    assert [e["key"] for e in r.json()["errors"]] == ["consents[0].granted"]
    states = (await http.get("/v1/me/consents", headers=t.auth)).json()["consents"]
    assert {c["purpose"]: c["granted"] for c in states}["research_labels"] is False


@pytest.mark.parametrize("text", ["\\ud800", "\\udc00", "\\ud800\\u0041"])
async def test_a_lone_surrogate_in_the_body_is_a_400_that_says_so(
    http: httpx.AsyncClient, invite_code: str, text: str
) -> None:
    t = await enrol(http, invite_code, "coaching")
    body = f'{{"consents": [{{"purpose": "research_labels", "granted": true, "terms_version": "{text}"}}]}}'
    r = await http.put(
        "/v1/me/consents", headers={**t.auth, "Content-Type": "application/json"}, content=body.encode()
    )
    assert (r.status_code, r.json()["type"]) == (400, TYPE), r.text
    assert r.json()["detail"] == "malformed JSON: a text holds a lone UTF-16 surrogate (not Unicode)"


async def test_requires_a_token(http: httpx.AsyncClient) -> None:
    assert (await http.get("/v1/me/consents")).status_code == 401


async def test_consent_changes_are_in_the_audit_log_and_no_change_adds_nothing(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code, "coaching", "share_aggregates")
    change = [
        {"purpose": "share_aggregates", "granted": False},
        {"purpose": "carpool_matching", "granted": True},
        {"purpose": "research_labels", "granted": False},  # not granted: nothing changes
    ]
    assert (await http.put("/v1/me/consents", headers=t.auth, json={"consents": change})).status_code == 200
    assert (await http.put("/v1/me/consents", headers=t.auth, json={"consents": change})).status_code == 200
    rows = await app_conn.fetch("SELECT action, detail FROM sillage.audit_about($1) ORDER BY at", t.user_id)
    consent = [
        (r["action"], json.loads(r["detail"])["purpose"]) for r in rows if r["action"].startswith("consent")
    ]
    assert consent == [("consent.revoke", "share_aggregates"), ("consent.grant", "carpool_matching")]
