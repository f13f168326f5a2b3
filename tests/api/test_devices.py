"""Revoking devices never strands a tester: their last active device cannot be revoked (409, leave
with ``DELETE /v1/me`` instead), since its token is what exports or erases their data."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx

from tests.support.testers import Enrolled, enrol


async def _second_device(http: httpx.AsyncClient, t: Enrolled) -> Enrolled:
    r = await http.post("/v1/me/devices", json={"label": "tablet"}, headers=t.auth)
    assert r.status_code == 201, r.text
    body = r.json()
    return Enrolled(user_id=t.user_id, device_id=uuid.UUID(body["device_id"]), token=body["token"])


def _assert_last_device_refused(r: httpx.Response) -> None:
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 409
    assert body["type"].endswith("/conflict")
    assert "DELETE /v1/me" in body["detail"]


async def test_the_last_active_device_cannot_be_revoked(http: httpx.AsyncClient, invite_code: str) -> None:
    t = await enrol(http, invite_code)
    r = await http.delete(f"/v1/me/devices/{t.device_id}", headers=t.auth)
    _assert_last_device_refused(r)
    assert r.json()["instance"] == f"/v1/me/devices/{t.device_id}"
    # The token still works, for the tester's data rights among the rest.
    assert (await http.get("/v1/me", headers=t.auth)).status_code == 200
    devices = (await http.get("/v1/me/devices", headers=t.auth)).json()
    assert [(d["id"], d["revoked_at"]) for d in devices] == [(str(t.device_id), None)]


async def test_the_calling_device_may_be_revoked_while_another_remains(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    t = await enrol(http, invite_code)
    other = await _second_device(http, t)
    r = await http.delete(f"/v1/me/devices/{t.device_id}", headers=t.auth)
    assert r.status_code == 204, r.text
    assert (await http.get("/v1/me", headers=t.auth)).status_code == 401
    # The remaining device is now the last one.
    r = await http.delete(f"/v1/me/devices/{other.device_id}", headers=other.auth)
    _assert_last_device_refused(r)
    assert (await http.get("/v1/me", headers=other.auth)).status_code == 200


async def test_concurrent_revokes_of_the_last_two_devices_leave_one(
    http: httpx.AsyncClient, invite_code: str, app_conn: asyncpg.Connection
) -> None:
    for _ in range(5):  # a few rounds, so both orders of arrival get their chance
        t = await enrol(http, invite_code)
        other = await _second_device(http, t)
        answers = await asyncio.gather(
            http.delete(f"/v1/me/devices/{t.device_id}", headers=t.auth),
            http.delete(f"/v1/me/devices/{other.device_id}", headers=other.auth),
        )
        assert sorted(r.status_code for r in answers) == [204, 409], [r.text for r in answers]
        _assert_last_device_refused(next(r for r in answers if r.status_code == 409))
        active = await app_conn.fetch(
            "SELECT id FROM sillage.devices WHERE user_id = $1 AND revoked_at IS NULL", t.user_id
        )
        assert len(active) == 1
        survivor = t if active[0]["id"] == t.device_id else other
        assert (await http.get("/v1/me", headers=survivor.auth)).status_code == 200


async def test_a_device_is_device_id_in_every_answer_and_id_stays_as_a_deprecated_alias(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    # The list named it `id`, every other answer (and the path to revoke it) `device_id`.
    t = await enrol(http, invite_code)
    other = await _second_device(http, t)
    listed = (await http.get("/v1/me/devices", headers=t.auth)).json()
    assert sorted(d["device_id"] for d in listed) == sorted([str(t.device_id), str(other.device_id)])
    assert all(d["id"] == d["device_id"] for d in listed)  # clients that read `id` still can
    me = (await http.get("/v1/me", headers=t.auth)).json()
    assert [d["device_id"] for d in listed if d["current"]] == [me["device_id"]]
    schema = (await http.get("/schema/openapi.json")).json()["components"]["schemas"]["DeviceOut"]
    assert schema["properties"]["id"]["deprecated"] is True
    assert "device_id" in schema["properties"]["id"]["description"]
    assert {"device_id", "id"} <= set(schema["required"])


async def test_the_409_is_documented_for_revoking_a_device(http: httpx.AsyncClient) -> None:
    r = await http.get("/schema/openapi.json")
    assert r.status_code == 200
    responses = r.json()["paths"]["/v1/me/devices/{device_id}"]["delete"]["responses"]
    errors = {code for code in responses if int(code) >= 400}
    assert errors == {"401", "404", "409", "415", "429", "500", "503"}
    assert responses["409"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
