"""What every exported table and column means: the one table the export's README is written from.

Each column gets one line: its meaning, its unit, and what an empty cell (SQL NULL) means where it
can be empty. Times are UTC (the README says so beside each time column's type). The columns
themselves are defined by the migrations (``infra/migrations``), which cannot change once applied,
and most live in each tester's partition, where a ``COMMENT ON COLUMN`` would be one catalogue row
per tester and column: so the descriptions are kept here, beside the export that reads the
columns. A column a later feature adds without a line here is described by its catalogue comment
if it has one; ``tests/api/test_export.py`` fails for a column with neither.
"""

from __future__ import annotations

import msgspec

from core.co2.modes import Mode


class Documented(msgspec.Struct, frozen=True, kw_only=True):
    """A table's description, and its columns' by name."""

    about: str
    columns: dict[str, str]


_WGS84 = "degrees (WGS 84)"
_YOU = "your tester id"
_SINGLETON = "always true: the table holds one row"
_NO_PATH = "the section had no path"

# account.json, which is not a table: its members.
ACCOUNT_JSON = {
    "user_id": "your tester id",
    "campaign": "the name of the campaign you enrolled in",
    "enrolled_at": "when you enrolled, UTC (ISO 8601)",
    "paused_at": "since when recording is paused (POST /v1/me/pause), UTC; null while it is not",
    "fixes_retention_days": (
        "days after which your raw positions are deleted; null: kept until you delete them"
    ),
    "trips_retention_days": (
        "days after which your trips and stays are deleted; null: kept until you delete them"
    ),
    "exported_at": "when this export was taken, UTC",
    "answers": (
        "what your answers about your sections' modes count for when Sillage infers your later ones,"
        " computed from data/labels.csv: how many it reads (`answers`), how many were about a mode"
        " the model showed (`with_shown_mode`), agreed with it (`agreed`) or corrected it"
        " (`corrected`), the mean probability shown (`mean_probability_shown`, 0 to 1) and how often"
        " you agreed (`agreement_rate`, 0 to 1; both null without such answers), and what each"
        " agreement counts for (`agreement_weight`, 1 in full); the app's GET /v1/me/answers gives"
        " the same"
    ),
}

TABLES: dict[str, Documented] = {
    "fixes": Documented(
        about="Raw positions as your devices sent them, one row per position.",
        columns={
            "ts": "time of the position, as the device took it",
            "lat": f"latitude, {_WGS84}",
            "lon": f"longitude, {_WGS84}",
            "accuracy_m": "horizontal accuracy radius reported by the device, metres; empty: none reported",
            "altitude_m": "altitude reported by the device, metres; empty: none reported, or beyond ±100 km",
            "speed_mps": (
                "speed reported by the device, metres per second; empty: none reported, or negative"
                " or over 1,000 m/s"
            ),
            "bearing_deg": (
                "direction of travel reported by the device, degrees clockwise from north (0 to 360);"
                " empty: none reported"
            ),
            "activity": (
                "motion class reported by the phone (still, walk, run, bike, vehicle, unknown); empty:"
                " none reported"
            ),
            "battery": "battery level reported by the device, 0 (empty) to 1 (full); empty: none reported",
            "source": (
                "the app or file format that sent the position, and the device (the first 8 hex digits"
                " of its id, as /v1/me/devices lists it; fixes stored by earlier versions have none)"
            ),
            "received_at": "when Sillage stored it",
        },
    ),
    "stays": Documented(
        about="Places where you stayed a while, found from your positions.",
        columns={
            "id": "the stay's id (trips.csv names it as a trip's origin or destination)",
            "started_at": "when you arrived",
            "ended_at": "when you left",
            "lat": f"latitude of the place, {_WGS84}",
            "lon": f"longitude of the place, {_WGS84}",
            "n_fixes": "number of positions recorded during the stay",
        },
    ),
    "trips": Documented(
        about="Trips between two stays. `hidden` trips are left out of coaching and sharing.",
        columns={
            "id": "the trip's id (sections.csv names it)",
            "started_at": "when the trip began",
            "ended_at": "when the trip ended",
            "origin_lat": f"latitude where the trip began, {_WGS84}",
            "origin_lon": f"longitude where the trip began, {_WGS84}",
            "destination_lat": f"latitude where the trip ended, {_WGS84}",
            "destination_lon": f"longitude where the trip ended, {_WGS84}",
            "origin_stay_id": (
                "the stay the trip left from (stays.csv); empty: it began at a gap in the signal or"
                " at the start of your positions"
            ),
            "destination_stay_id": (
                "the stay the trip arrived at (stays.csv); empty: it ended at a gap in the signal or"
                " is still under way"
            ),
            "distance_m": "length of the trip along its sections, metres",
            "purpose": (
                "why, as named from your home and work: commute (between them), work (to or from"
                " work), home (back home); empty: none named"
            ),
            "hidden": "true if you hid the trip",
            "processed_at": "when Sillage computed the trip",
        },
    ),
    "sections": Documented(
        about="The parts of each trip with one transport mode, with the CO2 footprint.",
        columns={
            "id": (
                "the section's id, kept when the trip is recomputed unless the section's start or end"
                " moves (superseded_sections.csv then keeps the former one; labels.csv names it)"
            ),
            "trip_id": "the trip it belongs to (trips.csv)",
            "seq": "its place in the trip, from 0",
            "started_at": "when the section began",
            "ended_at": "when the section ended",
            "distance_m": "length of the section, metres",
            "n_fixes": (
                "number of positions; 2 for a flight or a ride across a gap in the signal, of which"
                " only the ends were seen"
            ),
            "mode": f"transport mode shown ({', '.join(m.value for m in Mode)})",
            "probabilities": (
                "JSON: probability of each mode as shown to you, 0 to 1 (the model's, weighed by your"
                " history, and calibrated where the deployment calibrates them)"
            ),
            "mode_source": (
                "who set the mode: model, heuristic, history (your earlier confirmations on the same route)"
                " or user (you)"
            ),
            "model_version": "version of the mode model (or heuristic) that inferred the mode",
            "geometry": (
                "JSON: simplified path as a GeoJSON LineString (longitude first), or a MultiLineString cut"
                " at longitude ±180 when the path crosses the antimeridian"
            ),
            "occupants": (
                "people in the vehicle, you included, as a confirmed carpool counted them; 1 means"
                " none did, and a car section's footprint then uses the occupants of your vehicle profile"
            ),
            "co2_kg": "footprint, kilograms of CO2-equivalent; empty: not computed",
            "co2_factor": "emission factor used (see co2_registry); empty: no footprint computed",
            "co2_registry": "version of the emission factor registry; empty: no footprint computed",
            "model_probabilities": (
                "JSON: the model's own probability of each mode, before your history weighed them;"
                " empty: the section was computed before Sillage kept them"
            ),
            "kinematics": (
                "JSON list: 16 figures of how the section moved (speeds, stops, accelerations, share"
                " of signal gaps, length, duration, straightness), each as sign(x)·log(1 + |x|) over"
                " a fixed scale, unitless; empty: computed before Sillage kept them"
            ),
            "uncalibrated": (
                "the model's probability of the mode before the deployment's calibration, 0 to 1;"
                " empty: no calibration applied (the probability shown is the model's), or you"
                " confirmed the mode"
            ),
        },
    ),
    "labels": Documented(
        about="Modes you confirmed or corrected; they are kept when trips are recomputed.",
        columns={
            "id": "the confirmation's id",
            "started_at": "when the confirmed section began",
            "ended_at": "when the confirmed section ended",
            "mode": "the mode you gave",
            "section_id": "the section you confirmed (sections.csv, while it exists); empty: not recorded",
            "created_at": "when you answered",
            "start_lat": f"latitude where the confirmed section started, {_WGS84}; empty: {_NO_PATH}",
            "start_lon": f"longitude where the confirmed section started, {_WGS84}; empty: {_NO_PATH}",
            "end_lat": f"latitude where the confirmed section ended, {_WGS84}; empty: {_NO_PATH}",
            "end_lon": f"longitude where the confirmed section ended, {_WGS84}; empty: {_NO_PATH}",
            "path": (
                "JSON: the confirmed section's simplified path, [longitude, latitude] pairs in degrees;"
                " empty: none known"
            ),
            "kinematics": (
                "JSON list: the confirmed section's kinematic figures (see sections.csv), unitless;"
                " empty: confirmed before Sillage kept them"
            ),
            "shown_mode": (
                "the mode the app showed when you answered; empty: it showed your own earlier answer,"
                " or it is not known (confirmed before Sillage kept it)"
            ),
            "shown_probability": (
                "the probability shown for that mode, 0 to 1; empty when shown_mode is empty"
            ),
            "shown_uncalibrated": (
                "that probability before the deployment's calibration, 0 to 1; empty when shown_mode is empty"
            ),
            "shown_model_version": "version of the mode model that gave it; empty when shown_mode is empty",
            "asked": (
                "why the app asked you: unsure (the model was unsure) or audit (drawn at random to"
                " check the probabilities shown); empty: you answered of your own accord, or it is"
                " not known (before Sillage kept it)"
            ),
            "audit_share": (
                "for an audit question, the share of sure sections drawn for audit then, 0 to 1;"
                " empty for other answers"
            ),
        },
    ),
    "pipeline_state": Documented(
        about="How far your positions have been turned into trips.",
        columns={
            "singleton": _SINGLETON,
            "complete_until": "positions before this time are final; empty: none yet",
            "processed_at": "when Sillage last processed your positions",
            "model_version": "version of the mode model that last processed them; empty: none yet",
            "frozen_before": (
                "trips and stays that began before this time are no longer recomputed (retention"
                " deleted their positions); empty: none"
            ),
            "purposes_places": (
                "the home and work your trips' purposes were last named with, as"
                " `lat,lon|lat,lon` rounded to 0.001 degree (`-` for one not known); empty: not named yet"
            ),
            "purposes_named_at": (
                "the time those home and work were guessed as of (the last position then processed);"
                " empty: not named since this column exists"
            ),
            "purposes_named_places": (
                "the same home and work unrounded, to tell a guess refuted by late positions from a"
                " move; empty: not named since this column exists"
            ),
        },
    ),
    "profile": Documented(
        about="Your vehicle profile, used to compute car footprints.",
        columns={
            "singleton": _SINGLETON,
            "vehicle": (
                "JSON: your vehicle profile (car_energy, car_occupants, bike_kind, motorbike_kind,"
                " bus_kind, train_kind); a member left out takes its default"
            ),
            "updated_at": "when you last set it",
        },
    ),
    "hidden_trips": Documented(
        about="Time intervals of the trips you hid.",
        columns={
            "id": "the interval's id",
            "started_at": "when the hidden trip began",
            "ended_at": "when the hidden trip ended",
            "hidden_at": "when you hid it",
        },
    ),
    "deleted_trips": Documented(
        about="Time intervals of the trips you deleted: no trip is rebuilt across them.",
        columns={
            "id": "the interval's id",
            "started_at": "when the deleted trip began",
            "ended_at": "when the deleted trip ended",
            "deleted_at": "when you deleted it",
        },
    ),
    "superseded_sections": Documented(
        about=(
            "Ids of sections that recomputing replaced because their start or end moved (late"
            " positions), kept 30 days: an answer the app sends with one confirms the section that"
            " now covers most of that time."
        ),
        columns={
            "id": "the section's former id",
            "trip_id": "the id its trip had (trips.csv, while that trip exists)",
            "started_at": "when the section began, as then computed",
            "ended_at": "when the section ended, as then computed",
            "replaced_at": "when recomputing replaced it",
        },
    ),
    "places": Documented(
        about="Home and work as you confirmed or corrected them.",
        columns={
            "kind": "home or work",
            "lat": f"latitude, {_WGS84}",
            "lon": f"longitude, {_WGS84}",
            "updated_at": "when you set it",
        },
    ),
    "goal": Documented(
        about="The yearly CO2 budget you chose.",
        columns={
            "singleton": _SINGLETON,
            "yearly_budget_kg": "kilograms of CO2-equivalent per year",
            "updated_at": "when you set it",
        },
    ),
    "consents": Documented(
        about="Your consents in force, per purpose.",
        columns={
            "user_id": _YOU,
            "purpose": "coaching, share_aggregates, research_labels or carpool_matching",
            "terms_version": "version of the terms you agreed to",
            "granted_at": "when you granted it",
            "revoked_at": "when you revoked it; empty: in force",
        },
    ),
    "consent_events": Documented(
        about="Every consent you granted or revoked.",
        columns={
            "id": "the change's number (in the order they were made)",
            "user_id": _YOU,
            "purpose": "coaching, share_aggregates, research_labels or carpool_matching",
            "action": "grant or revoke",
            "terms_version": "version of the terms in force",
            "at": "when",
        },
    ),
    "devices": Documented(
        about="Your devices (token secrets are never exported; Sillage only keeps their digest).",
        columns={
            "id": "the device's id (the first part of its token)",
            "user_id": _YOU,
            "label": "its name (phone unless you named it)",
            "created_at": "when its token was issued",
            "last_seen_at": "when it was last used; empty: never",
            "revoked_at": "when its token was revoked; empty: still valid",
        },
    ),
    "pipeline_dirty": Documented(
        about="Time ranges of your positions waiting to be processed.",
        columns={
            "user_id": _YOU,
            "from_ts": "start of the range of positions to process again",
            "to_ts": "end of that range",
            "updated_at": "when the range last grew",
            "due_at": "when it is to be processed (later for a trip still under way)",
            "failures": "attempts that failed since the last success (each puts the next one off)",
        },
    ),
    "privacy_ledger": Documented(
        about="The aggregate releases your data counted in, with the privacy each spent.",
        columns={
            "user_id": _YOU,
            "release_id": "the release (statistics shared with the city)",
            "epsilon": "privacy loss spent on you by that release (differential privacy's ε), unitless",
            "spent_at": "when",
        },
    ),
    "carpool_offers": Documented(
        about="Your recurring trips as carpool matching sees them (with the carpool_matching consent).",
        columns={
            "user_id": _YOU,
            "seq": "the offer's number among yours, from 0",
            "origin_lat": f"latitude where the trip usually begins, rounded to about 100 m, {_WGS84}",
            "origin_lon": f"longitude where the trip usually begins, rounded to about 100 m, {_WGS84}",
            "destination_lat": f"latitude where the trip usually ends, rounded to about 100 m, {_WGS84}",
            "destination_lon": f"longitude where the trip usually ends, rounded to about 100 m, {_WGS84}",
            "depart_from_min": "earliest usual departure, minutes after midnight, Europe/Paris time",
            "depart_to_min": "latest usual departure, minutes after midnight, Europe/Paris time",
            "weekdays": (
                "days you make it, as a sum: 1 Monday, 2 Tuesday, 4 Wednesday, 8 Thursday, 16 Friday,"
                " 32 Saturday, 64 Sunday"
            ),
            "distance_m": "usual length of the trip, metres",
            "usual_co2_kg": "footprint of one such trip as you make it now, kilograms of CO2-equivalent",
            "usual_mode": "the mode you usually take",
            "can_drive": "whether you could drive it",
            "car_kg_per_km": "your car's emission factor, kilograms of CO2-equivalent per vehicle-kilometre",
            "computed_at": "when it was computed",
        },
    ),
    "carpool_matches": Documented(
        about="Carpool proposals between you and another tester (their id is left out).",
        columns={
            "id": "the proposal's id (the same for the same two testers)",
            "user_low": "your tester id, when it is the lower of the pair's two",
            "user_high": "your tester id, when it is the higher of the pair's two",
            "legs": (
                "JSON: the trips you could share: zones (2 km grid cells), weekdays (as in"
                " carpool_offers), departure window (minutes after midnight, Europe/Paris), which"
                " side drives (low or high, as above), detour (metres) and what each side would save"
                " per year (kilograms of CO2-equivalent, euros)"
            ),
            "computed_at": "when it was computed",
        },
    ),
    "carpool_responses": Documented(
        about="Your answers to carpool proposals.",
        columns={
            "match_id": "the proposal (carpool_matches)",
            "user_id": _YOU,
            "response": "interested, declined or blocked",
            "at": "when you answered",
        },
    ),
    "carpool_profiles": Documented(
        about="What you show a carpool partner once you both said yes.",
        columns={
            "user_id": _YOU,
            "display_name": "the name shown",
            "contact": "the contact shown (e-mail, phone...)",
            "can_drive": "whether you can drive; empty: inferred from your trips",
            "updated_at": "when you last set it",
        },
    ),
    "audit_log": Documented(
        about="What was done with your account and data, and when (the operator's log, about you).",
        columns={
            "id": "the entry's number (in the order they were written)",
            "at": "when",
            "actor_kind": "who acted: tester (you), operator, or system",
            "action": "what was done (such as export.download)",
            "detail": "JSON: what the action concerned (never a location)",
        },
    ),
}
