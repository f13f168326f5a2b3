"""Confirmed labels of consenting testers, for training (``sql/labels.sql``, ``sql/partition/labels.sql``)."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from store.partition import Conn
from store.queries import queries


class LabelledFix(msgspec.Struct, frozen=True, kw_only=True):
    label_id: uuid.UUID
    mode: str
    shown_mode: str | None
    shown_probability: float | None
    shown_uncalibrated: float | None
    shown_model_version: str | None
    asked: str | None
    audit_share: float | None
    ts: datetime
    lat: float
    lon: float
    accuracy_m: float | None
    speed_mps: float | None
    activity: str | None


async def research_testers(conn: Conn) -> list[tuple[uuid.UUID, str]]:
    """(user id, role) of every tester whose ``research_labels`` consent is in force."""
    rows = await conn.fetch(queries("labels")["research_testers"])
    return [(r["id"], r["role_name"]) for r in rows]


async def labelled_fixes(conn: Conn) -> list[LabelledFix]:
    """The current tester's confirmed labels and the fixes they cover; call inside ``as_user``."""
    rows = await conn.fetch(queries("partition/labels")["labelled_fixes"])
    return [
        LabelledFix(
            label_id=r["label_id"],
            mode=r["mode"],
            shown_mode=r["shown_mode"],
            shown_probability=r["shown_probability"],
            shown_uncalibrated=r["shown_uncalibrated"],
            shown_model_version=r["shown_model_version"],
            asked=r["asked"],
            audit_share=r["audit_share"],
            ts=r["ts"],
            lat=r["lat"],
            lon=r["lon"],
            accuracy_m=r["accuracy_m"],
            speed_mps=r["speed_mps"],
            activity=r["activity"],
        )
        for r in rows
    ]
