"""Enrolment and the tester's own account: ``/v1/enrol``, ``/v1/me``, devices and consents."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody, KwargDefinition
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from api.deps import Caller, DbConn, utcnow
from api.openapi import own_problems
from ingest import testers
from store import testers as testers_db


class ConsentIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    purpose: str
    terms_version: testers.TermsVersion = testers.CURRENT_TERMS


class EnrolIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    invite_code: str
    consents: list[str | ConsentIn]
    device_label: testers.Label = "phone"


class EnrolOut(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    device_id: uuid.UUID
    token: str


class ConsentOut(msgspec.Struct, frozen=True, kw_only=True):
    purpose: str
    terms_version: str
    granted_at: datetime
    revoked_at: datetime | None


# A device is ``device_id`` in every answer (enrolment, /v1/me, a new device, the path to revoke it);
# the list of devices named it ``id`` first, which it still sends for the clients that read it.
DeprecatedDeviceId = Annotated[
    uuid.UUID,
    KwargDefinition(
        schema_extra={"deprecated": True}, description="Deprecated: the same value as `device_id`; read that."
    ),
]


class DeviceOut(msgspec.Struct, frozen=True, kw_only=True):
    device_id: uuid.UUID
    id: DeprecatedDeviceId
    label: str
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None
    current: bool


class MeOut(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    device_id: uuid.UUID
    paused: bool
    consents: list[ConsentOut]


class DeviceIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    label: testers.Label = "phone"


class NewDeviceOut(msgspec.Struct, frozen=True, kw_only=True):
    device_id: uuid.UUID
    token: str


def _choices(items: list[str | ConsentIn]) -> list[testers.ConsentChoice]:
    return [
        testers.ConsentChoice(purpose=i)
        if isinstance(i, str)
        else testers.ConsentChoice(purpose=i.purpose, terms_version=i.terms_version)
        for i in items
    ]


# 404: no campaign has the invite code; 409: its enrolment is closed; 422: the consents.
@post(
    "/v1/enrol",
    status_code=HTTP_201_CREATED,
    tags=["testers"],
    operation_id="enrol",
    opt=own_problems(404, 409, 422),
)
async def enrol(data: JSONBody[EnrolIn], conn: DbConn) -> EnrolOut:
    """Join a campaign with its invite code and consents (`coaching` is required).

    Creates the tester's own database partition and returns a device token, shown only once:
    send it as `Authorization: Bearer <token>` on every other request.
    """
    result = await testers.enrol(
        conn,
        data.invite_code,
        _choices(data.consents),
        device_label=testers.require_text(data.device_label, "device_label"),
        now=utcnow(),
    )
    return EnrolOut(user_id=result.user_id, device_id=result.device_id, token=result.token)


class MeController(Controller):
    path = "/v1/me"
    tags = ["testers"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @get("/", operation_id="getMe")
    async def me(self, conn: DbConn, principal: Caller) -> MeOut:
        """Who the token belongs to, and the consents in force."""
        consents = await testers_db.list_consents(conn, principal.user_id)
        return MeOut(
            user_id=principal.user_id,
            device_id=principal.device_id,
            paused=principal.paused,
            consents=[
                ConsentOut(
                    purpose=c.purpose,
                    terms_version=c.terms_version,
                    granted_at=c.granted_at,
                    revoked_at=c.revoked_at,
                )
                for c in consents
            ],
        )

    @get("/devices", operation_id="listDevices")
    async def devices(self, conn: DbConn, principal: Caller) -> list[DeviceOut]:
        """The caller's devices (never their token secrets)."""
        rows = await testers_db.list_devices(conn, principal.user_id)
        return [
            DeviceOut(
                device_id=d.id,
                id=d.id,
                label=d.label,
                created_at=d.created_at,
                last_seen_at=d.last_seen_at,
                revoked_at=d.revoked_at,
                current=d.id == principal.device_id,
            )
            for d in rows
        ]

    @post("/devices", status_code=HTTP_201_CREATED, operation_id="addDevice")
    async def add_device(
        self, conn: DbConn, principal: Caller, data: JSONBody[DeviceIn | None] = None
    ) -> NewDeviceOut:
        """Issue a token for another device of the same tester (a second phone, a tracker app); the
        body (its label) may be left out."""
        label = (data or DeviceIn()).label
        device_id, token = await testers.add_device(conn, principal, testers.require_text(label, "label"))
        return NewDeviceOut(device_id=device_id, token=token)

    # 409: the tester's last active device (leave with DELETE /v1/me instead).
    @delete(
        "/devices/{device_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        operation_id="revokeDevice",
        opt=own_problems(409),
    )
    async def revoke_device(self, device_id: FromPath[uuid.UUID], conn: DbConn, principal: Caller) -> None:
        """Revoke one of the caller's own devices (its token stops working at once); the calling
        device too, while another stays active. The last active device cannot be revoked (409): its
        token is what exports or erases the tester's data, so to stop, leave with `DELETE /v1/me`."""
        await testers.revoke_device(conn, principal, device_id)


ROUTES = [enrol, MeController]
