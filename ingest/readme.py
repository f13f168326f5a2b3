"""The README of a zip export: every file, every column, and its unit.

Known tables and columns are described here; any other (added later by another feature) is
described from its catalogue comment (``COMMENT ON TABLE/COLUMN``, which a partition step can
set) and from the unit its name carries by the project's convention (``_m``, ``_s``, ``_mps``...).
"""

from __future__ import annotations

from datetime import datetime

from store.export import AUDIT_RELATION, Account, Column, Relation

TABLES = {
    "fixes": "Raw positions as your devices sent them, one row per position.",
    "stays": "Places where you stayed a while, found from your positions.",
    "trips": "Trips between two stays. `hidden` trips are left out of coaching and sharing.",
    "sections": "The parts of each trip with one transport mode, with the CO2 footprint.",
    "labels": "Modes you confirmed or corrected; they are kept when trips are recomputed.",
    "pipeline_state": "How far your positions have been turned into trips.",
    "profile": "Your vehicle profile, used to compute car footprints.",
    "hidden_trips": "Time intervals of the trips you hid.",
    "places": "Home and work as you confirmed or corrected them.",
    "goal": "The yearly CO2 budget you chose.",
    "consents": "Your consents in force, per purpose.",
    "consent_events": "Every consent you granted or revoked.",
    "devices": "Your devices (token secrets are never exported; Sillage only keeps their digest).",
    "pipeline_dirty": "Time ranges of your positions waiting to be processed.",
    "audit_log": AUDIT_RELATION.comment or "",
}

COLUMNS = {
    "ts": "time of the position",
    "lat": "latitude, degrees (WGS 84)",
    "lon": "longitude, degrees (WGS 84)",
    "accuracy_m": "horizontal accuracy radius reported by the device, metres",
    "altitude_m": "altitude reported by the device, metres",
    "speed_mps": "speed reported by the device, metres per second",
    "bearing_deg": "direction of travel, degrees clockwise from north",
    "activity": "motion class reported by the phone (still, walk, run, bike, vehicle, unknown)",
    "battery": "battery level, 0 to 1",
    "source": (
        "the app or file format that sent the position, and the device (the first 8 hex digits of"
        " its id, as /v1/me/devices lists it; fixes stored by earlier versions have none)"
    ),
    "received_at": "when Sillage stored it",
    "probabilities": "JSON: probability of each mode according to the model",
    "mode_source": (
        "who set the mode: model, heuristic, history (your earlier confirmations on the same route)"
        " or user (you)"
    ),
    "start_lat": "latitude where the confirmed section started, degrees (WGS 84)",
    "start_lon": "longitude where the confirmed section started, degrees (WGS 84)",
    "end_lat": "latitude where the confirmed section ended, degrees (WGS 84)",
    "end_lon": "longitude where the confirmed section ended, degrees (WGS 84)",
    "geometry": (
        "JSON: simplified path as a GeoJSON LineString (longitude first), or a MultiLineString cut"
        " at longitude ±180 when the path crosses the antimeridian"
    ),
    "co2_kg": "footprint, kilograms of CO2-equivalent",
    "co2_factor": "emission factor used (see co2_registry)",
    "co2_registry": "version of the emission factor registry",
    "occupants": "people in the vehicle, you included, as a confirmed carpool counted them; 1 means"
    " none did, and a car section's footprint then uses the occupants of your vehicle profile",
    "n_fixes": "number of positions",
    "hidden": "true if you hid the trip",
    "vehicle": "JSON: your vehicle profile",
    "complete_until": "positions before this time are final",
    "terms_version": "version of the terms you agreed to",
    "detail": "JSON: what the action concerned (never a location)",
    "yearly_budget_kg": "kilograms of CO2-equivalent per year",
    "actor_kind": "who acted: tester (you), operator, or system",
    "action": "what was done",
}

UNITS = (
    ("_mps", "metres per second"),
    ("_deg", "degrees"),
    ("_kg", "kilograms"),
    ("_days", "days"),
    ("_m", "metres"),
    ("_s", "seconds"),
)


def describe(column: Column) -> str:
    """A column's meaning and unit: known text, else its catalogue comment, else its name's unit."""
    known = COLUMNS.get(column.name) or column.comment
    if column.type == "timestamp with time zone":
        return f"{known}, UTC" if known else "time, UTC"
    if known:
        return known
    for suffix, unit in UNITS:
        if column.name.endswith(suffix):
            return unit
    return ""


def _columns(rel: Relation) -> list[str]:
    out = []
    for c in rel.columns:
        text = describe(c)
        out.append(f"  - `{c.name}` ({c.type}){': ' + text if text else ''}")
    return out


def readme(
    account: Account, shared: list[tuple[str, Relation]], partition: list[Relation], now: datetime
) -> str:
    """The README.md of a zip export for ``account`` taken at ``now``."""
    lines = [
        "# Your Sillage data",
        "",
        f"Everything Sillage held about you (tester `{account.user_id}`, campaign"
        f" {account.campaign!r}) on {now:%Y-%m-%d %H:%M:%S} UTC, as one consistent snapshot.",
        "",
        "## Conventions",
        "",
        "- CSV files: RFC 4180, UTF-8, comma-separated, one header row. An empty cell means no value;",
        '  text, JSON and lists are always quoted (an empty text is `""`); numbers, booleans',
        "  (`true`, `false`) and times are not.",
        "- Times: UTC, ISO 8601 (`2026-09-14T07:00:00.000000Z`).",
        "- Units are in the column names: `_m` metres, `_s` seconds, `_mps` metres per second, `_deg`",
        "  degrees, `_kg` kilograms (CO2-equivalent for footprints), `_days` days; `lat`/`lon` are",
        "  WGS 84 degrees.",
        "- JSON columns hold JSON text; geometries are GeoJSON (RFC 7946, longitude first).",
        "",
        "## Files",
        "",
        "- `account.json`: your account: id, campaign, enrolment time, whether recording is paused,",
        "  the campaign's retention periods (days after which raw positions and trips are deleted), and",
        "  what your answers about your sections' modes count for when Sillage infers your later ones",
        "  (`answers`, computed from `data/labels.csv`: how many it reads, agreed with the mode shown or",
        "  corrected it, the mean probability shown, how often you agreed, and what each agreement",
        "  counts for, 1 in full; the app's `GET /v1/me/answers` gives the same).",
        "",
    ]
    entries = [*shared, ("account/audit_log.csv", AUDIT_RELATION)]
    entries += [(f"data/{rel.name}.csv", rel) for rel in partition]
    for name, rel in entries:
        about = TABLES.get(rel.name) or rel.comment or "Data kept about you by a Sillage feature."
        lines += [f"- `{name}`: {about}", *_columns(rel), ""]
    lines += [
        "Released aggregates (statistics shared with the city, if you consented) are anonymous and",
        "are not part of this export: nothing in them refers to you.",
        "",
    ]
    return "\n".join(lines)
