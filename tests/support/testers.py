"""Builders for tests that need enrolled testers."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import msgspec


class Enrolled(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    device_id: uuid.UUID
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def enrol(http: httpx.AsyncClient, invite_code: str, *consents: str) -> Enrolled:
    r = await http.post(
        "/v1/enrol", json={"invite_code": invite_code, "consents": list(consents or ("coaching",))}
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return Enrolled(
        user_id=uuid.UUID(body["user_id"]), device_id=uuid.UUID(body["device_id"]), token=body["token"]
    )


async def upload(http: httpx.AsyncClient, t: Enrolled, fixes: list[dict[str, Any]]) -> None:
    """Send fixes through the native endpoint in batches of 1000, as the app does."""
    for k in range(0, len(fixes), 1000):
        r = await http.post("/v1/fixes", json={"fixes": fixes[k : k + 1000]}, headers=t.auth)
        assert r.status_code == 200, r.text
