import asyncpg
import httpx
import pytest

from tests.support.testers import enrol


async def test_enrolment_returns_a_user_and_a_device_token(http: httpx.AsyncClient, invite_code: str) -> None:
    r = await http.post(
        "/v1/enrol", json={"invite_code": invite_code, "consents": ["coaching", "share_aggregates"]}
    )
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"user_id", "device_id", "token"}
    secret = body["token"].split(".", 1)[1]
    assert len(secret) >= 22  # at least 128 bits in url-safe base64


async def test_consents_are_recorded_per_purpose_with_terms_version(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    r = await http.post(
        "/v1/enrol",
        json={
            "invite_code": invite_code,
            "consents": ["coaching", {"purpose": "research_labels", "terms_version": "2026-09"}],
        },
    )
    token = r.json()["token"]
    me = (await http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})).json()
    got = {c["purpose"]: c["terms_version"] for c in me["consents"]}
    assert got == {"coaching": "2026-11", "research_labels": "2026-09"}
    assert all(c["revoked_at"] is None for c in me["consents"])


async def test_coaching_consent_is_required(http: httpx.AsyncClient, invite_code: str) -> None:
    r = await http.post("/v1/enrol", json={"invite_code": invite_code, "consents": ["share_aggregates"]})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "coaching" in r.json()["detail"]


async def test_an_unknown_invite_code_is_refused(http: httpx.AsyncClient) -> None:
    r = await http.post("/v1/enrol", json={"invite_code": "NOPE0-NOPE0", "consents": ["coaching"]})
    assert r.status_code == 404


async def test_a_refused_enrolment_leaves_no_tester_behind(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    before = await app_conn.fetchval("SELECT count(*) FROM sillage.users")
    r = await http.post("/v1/enrol", json={"invite_code": invite_code, "consents": ["coaching", "bogus"]})
    assert r.status_code == 422
    assert await app_conn.fetchval("SELECT count(*) FROM sillage.users") == before


async def test_tester_endpoints_need_a_valid_token(http: httpx.AsyncClient, invite_code: str) -> None:
    missing = await http.get("/v1/me")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="sillage"'  # RFC 9110 section 15.5.2
    t = await enrol(http, invite_code)
    forged = t.token[:-4] + ("AAAA" if not t.token.endswith("AAAA") else "BBBB")
    r = await http.get("/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    assert r.json()["type"].endswith("/unauthorized")
    assert (await http.get("/v1/me", headers=t.auth)).json()["user_id"] == str(t.user_id)


async def test_a_tester_can_have_several_devices_and_revoke_one(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    t = await enrol(http, invite_code)
    r = await http.post("/v1/me/devices", json={"label": "tablet"}, headers=t.auth)
    assert r.status_code == 201
    second = {"Authorization": f"Bearer {r.json()['token']}"}
    assert (await http.get("/v1/me", headers=second)).json()["user_id"] == str(t.user_id)
    devices = (await http.get("/v1/me/devices", headers=t.auth)).json()
    assert len(devices) == 2
    assert all("token" not in d and "secret" not in str(d) for d in devices)
    r = await http.delete(f"/v1/me/devices/{r.json()['device_id']}", headers=t.auth)
    assert r.status_code == 204
    assert (await http.get("/v1/me", headers=second)).status_code == 401
    assert (await http.get("/v1/me", headers=t.auth)).status_code == 200


async def test_a_device_may_be_added_without_a_body(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code)
    r = await http.post("/v1/me/devices", headers=t.auth)
    assert r.status_code == 201, r.text
    labels = [d["label"] for d in (await http.get("/v1/me/devices", headers=t.auth)).json()]
    assert "phone" in labels


async def test_a_tester_cannot_revoke_another_testers_device(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    a = await enrol(http, invite_code)
    b = await enrol(http, invite_code)
    r = await http.delete(f"/v1/me/devices/{b.device_id}", headers=a.auth)
    assert r.status_code == 404
    assert (await http.get("/v1/me", headers=b.auth)).status_code == 200


async def test_tokens_are_stored_only_as_hashes(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    t = await enrol(http, invite_code)
    secret = t.token.split(".", 1)[1]
    row = await app_conn.fetchrow("SELECT * FROM sillage.devices WHERE id = $1", t.device_id)
    assert row is not None
    assert all(secret not in str(v) for v in row.values())


@pytest.mark.parametrize("terms_version", ["", "   ", "v" * 5000, "x\u0000"])
async def test_a_consents_terms_version_follows_the_rule_of_consent_changes(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection, terms_version: str
) -> None:
    before = await app_conn.fetchval("SELECT count(*) FROM sillage.users")
    consent = {"purpose": "share_aggregates", "terms_version": terms_version}
    r = await http.post("/v1/enrol", json={"invite_code": invite_code, "consents": ["coaching", consent]})
    assert r.status_code == 400  # a length, as the device label's: the body fails its schema
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/validation")
    assert [e["key"] for e in r.json()["errors"]] == ["consents[1].terms_version"]
    assert await app_conn.fetchval("SELECT count(*) FROM sillage.users") == before


async def test_a_terms_version_out_of_bounds_is_a_400_even_beside_an_unknown_purpose(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    # The body fails its schema (400) whatever else it holds, as when Litestar finds the fault.
    consents = ["coaching", "bogus", {"purpose": "share_aggregates", "terms_version": ""}]
    r = await http.post("/v1/enrol", json={"invite_code": invite_code, "consents": consents})
    assert r.status_code == 400, r.text
    assert [e["key"] for e in r.json()["errors"]] == ["consents[2].terms_version"]


async def test_a_malformed_body_says_where_as_a_trackers_does(http: httpx.AsyncClient) -> None:
    # It said msgspec's "Input data was truncated", without the line and column the Problem documents.
    json_body = {"Content-Type": "application/json"}
    r = await http.post("/v1/enrol", content=b'{"invite_code": ', headers=json_body)
    assert r.status_code == 400
    body = r.json()
    assert (body["line"], body["column"], body["offset"]) == (1, 17, 16)
    assert body["detail"].startswith("malformed JSON at line 1, column 17")


async def test_a_nul_character_in_the_device_label_is_refused(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    r = await http.post(
        "/v1/enrol", json={"invite_code": invite_code, "consents": ["coaching"], "device_label": "a\u0000b"}
    )
    assert r.status_code == 400
    assert "U+0000" in r.json()["detail"]


async def test_text_the_database_cannot_store_is_a_bad_request_wherever_it_comes(
    http: httpx.AsyncClient,
) -> None:
    # The invite code has no validator of its own: PostgreSQL refuses U+0000 (SQLSTATE 22021),
    # and the error mapper answers 400 rather than 500.
    r = await http.post("/v1/enrol", json={"invite_code": "ABCDE\u0000-FGH23", "consents": ["coaching"]})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/validation")  # the kind of every 400
    assert "cannot store" in r.json()["detail"]


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]
)
async def test_a_json_body_sent_as_another_media_type_is_refused_and_enrols_no_one(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection, content_type: str
) -> None:
    # `curl -d` sends a form's media type: the body was read as JSON all the same. The API now
    # says what it reads (415, Accept-Post), as it does for a compressed body.
    before = await app_conn.fetchval("SELECT count(*) FROM sillage.users")
    body = f'{{"invite_code": "{invite_code}", "consents": ["coaching"]}}'
    r = await http.post("/v1/enrol", content=body, headers={"Content-Type": content_type})
    assert r.status_code == 415, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert content_type in r.json()["detail"]
    assert r.headers["accept-post"] == "application/json"
    assert await app_conn.fetchval("SELECT count(*) FROM sillage.users") == before


@pytest.mark.parametrize("content_type", [None, "application/json; charset=utf-8", "Application/JSON"])
async def test_a_json_body_is_read_with_any_json_media_type_or_none(
    http: httpx.AsyncClient, invite_code: str, content_type: str | None
) -> None:
    body = f'{{"invite_code": "{invite_code}", "consents": ["coaching"]}}'
    headers = {} if content_type is None else {"Content-Type": content_type}
    r = await http.post("/v1/enrol", content=body, headers=headers)
    assert r.status_code == 201, r.text
