"""CO2 coaching use cases: vehicle profile, footprints, goal, places, recurring trips, alternatives,
FMD days and the weekly message, each computed from the caller's own partition only.

Every read runs in one transaction under the tester's role (:func:`store.partition.as_user`), so the
database refuses anything outside their partition; hidden trips are left out by the queries. Writes
that change footprints (a new profile, an adopted registry) first lock the tester's pending pipeline
range, so a pipeline run that read the old profile or registry cannot overwrite what is recomputed.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from core.co2 import DEFAULT_VERSION, LA_ROCHELLE, Deployment, Mode, Registry, VehicleProfile, footprint_kg
from core.co2.registry import load_registry
from core.coaching import (
    Attestation,
    BudgetParams,
    BudgetStatus,
    FmdDays,
    FmdParams,
    FootprintReport,
    Language,
    Period,
    Place,
    PlaceOverrides,
    Places,
    PlaceSource,
    PlacesParams,
    RecurringParams,
    RecurringTrip,
    SectionRecord,
    StayRecord,
    SummaryParams,
    TripAlternatives,
    WeeklyMessage,
    WeeklyParams,
    alternatives_for_recurring,
    budget_status,
    fmd_days,
    footprint_report,
    guess_places,
    recurring_trips,
    trips_from_sections,
    weekly_message,
)
from core.coaching.alternatives import DEFAULT_ALTERNATIVE_PARAMS, AlternativeParams
from core.coaching.periods import local_date, local_midnight, period_start, shift
from core.coaching.purpose import DEFAULT_PURPOSE_PARAMS, DERIVED, Purpose, PurposeParams, resolved_purpose
from core.coaching.recompute import occupants_for
from core.errors import Unprocessable
from core.history import ASK_BELOW, AUDIT_SHARE
from store import coaching as coaching_db
from store import trips as trips_db
from store.partition import Conn, as_user, enter, exists
from store.rights import Actor, audit
from store.testers import Principal
from store.trips import PurposesNaming

REGISTRY_SETTING = "co2_registry_version"
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


class CoachingParams(msgspec.Struct, frozen=True, kw_only=True):
    """What coaching reads and how: look-back windows and every algorithm's parameters.

    Home and work are guessed from the last ``places_lookback_days`` of stays (where one lives
    now, not a year ago); recurring trips from the last ``recurring_lookback_days`` of trips.
    """

    places_lookback_days: int = 120
    recurring_lookback_days: int = 365
    deployment: Deployment = LA_ROCHELLE
    summary: SummaryParams = SummaryParams()
    budget: BudgetParams = BudgetParams()
    places: PlacesParams = PlacesParams()
    purpose: PurposeParams = DEFAULT_PURPOSE_PARAMS
    recurring: RecurringParams = RecurringParams()
    alternatives: AlternativeParams = DEFAULT_ALTERNATIVE_PARAMS
    fmd: FmdParams = FmdParams()
    weekly: WeeklyParams = WeeklyParams()
    ask_below: float = ASK_BELOW  # sections to confirm (core.history.unsure; SILLAGE_ASK_BELOW)
    audit_share: float = AUDIT_SHARE  # and sure ones drawn (core.history.audited; SILLAGE_AUDIT_SHARE)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.summary.time_zone)


DEFAULT_COACHING_PARAMS = CoachingParams()


class Goal(msgspec.Struct, frozen=True, kw_only=True):
    status: BudgetStatus
    personal: bool  # False: the documented default budget


class PlacesView(msgspec.Struct, frozen=True, kw_only=True):
    places: Places
    named_trips: int | None = None  # trips whose purpose was (re)named by this change


class Adoption(msgspec.Struct, frozen=True, kw_only=True):
    version: str
    testers: int
    sections: int


# ---- registry versions ----------------------------------------------------------------------


@functools.cache
def registry(version: str) -> Registry:
    """A shipped registry version, parsed once per process."""
    return load_registry(version)


async def adopted_version(conn: Conn) -> str:
    """The registry version the deployment adopted (``sillage co2 adopt``), else the default."""
    return await coaching_db.setting(conn, REGISTRY_SETTING) or DEFAULT_VERSION


async def adopted_registry(conn: Conn) -> Registry:
    """The adopted registry: what the pipeline and every recomputation price sections with."""
    return registry(await adopted_version(conn))


async def _recompute(
    conn: Conn, profile: VehicleProfile, reg: Registry, deployment: Deployment, *, stale_only: bool = False
) -> int:
    """Reprice the partition's sections; sections with a mode the registry cannot price are left."""
    inputs = await coaching_db.footprint_inputs(conn, not_at_registry=reg.version if stale_only else None)
    out = []
    for s in inputs:
        try:
            mode = Mode(s.mode)
        except ValueError:
            continue
        fp = footprint_kg(
            mode,
            s.distance_m,
            profile,
            reg,
            deployment=deployment,
            occupants=occupants_for(s.occupants, profile),
        )
        out.append(
            coaching_db.NewFootprint(id=s.id, kg=fp.kg, factor=fp.factor_key, registry=fp.registry_version)
        )
    await coaching_db.set_footprints(conn, out)
    return len(out)


async def adopt(
    conn: Conn, version: str, *, actor: Actor, params: CoachingParams = DEFAULT_COACHING_PARAMS
) -> Adoption:
    """Adopt a registry version and reprice every tester's sections with it, one transaction each.

    The version is recorded first (with the audit entry of who adopted it), so pipeline runs that
    start from now on use it; each tester's transaction then waits for a run already holding
    their pending range. Running it again after an interruption finishes the job (it reprices
    everything, idempotently).
    """
    reg = registry(version)  # NotFound for an unknown version, before anything changes
    async with conn.transaction():
        await coaching_db.put_setting(conn, REGISTRY_SETTING, reg.version)
        await audit(conn, actor, "registry.adopt", detail={"version": reg.version})
    testers = await coaching_db.all_testers(conn)
    total = 0
    for tester in testers:
        async with conn.transaction():
            await coaching_db.hold_tester_queue(conn, tester.user_id)
            if not await exists(conn, tester.role):  # erased since the list was read: nothing to price
                continue
            await enter(conn, tester.role)
            profile = await trips_db.vehicle_profile(conn)
            total += await _recompute(conn, profile, reg, params.deployment)
    return Adoption(version=reg.version, testers=len(testers), sections=total)


# ---- vehicle profile -------------------------------------------------------------------------


async def get_profile(conn: Conn, principal: Principal) -> VehicleProfile:
    async with as_user(conn, principal.role):
        return await trips_db.vehicle_profile(conn)


async def set_profile(
    conn: Conn,
    principal: Principal,
    profile: VehicleProfile,
    *,
    params: CoachingParams = DEFAULT_COACHING_PARAMS,
) -> int:
    """Store the profile and reprice all the tester's sections with it, in one transaction."""
    async with conn.transaction():
        await coaching_db.hold_tester_queue(conn, principal.user_id)
        reg = await adopted_registry(conn)
        await enter(conn, principal.role)
        await coaching_db.save_vehicle_profile(conn, msgspec.to_builtins(profile))
        return await _recompute(conn, profile, reg, params.deployment)


# ---- reading a tester's inputs (inside as_user) ----------------------------------------------


async def _places(conn: Conn, at: datetime, params: CoachingParams) -> Places:
    confirmed = {p.kind: (p.lat, p.lon) for p in await coaching_db.confirmed_places(conn)}
    overrides = PlaceOverrides(home=confirmed.get("home"), work=confirmed.get("work"))
    stays: list[StayRecord] = []
    if overrides.home is None or overrides.work is None:  # both confirmed: nothing to guess
        rows = await coaching_db.stays_between(conn, at - timedelta(days=params.places_lookback_days), at)
        stays = [StayRecord(start=r.started_at, end=r.ended_at, lat=r.lat, lon=r.lon) for r in rows]
    return guess_places(stays, overrides, params.places)


async def _sections(
    conn: Conn,
    start: datetime,
    end: datetime,
    *,
    profile: VehicleProfile,
    ask_below: float | None = None,
    audit_share: float = AUDIT_SHARE,
) -> list[SectionRecord]:
    """Sections of visible trips in [start, end) as coaching records: known modes only, the car's
    occupants as priced, the trips' own purposes, and which are to confirm (below ``ask_below``, or
    drawn for audit; ``None``, for the answers that do not say it: none)."""
    out = []
    for r in await coaching_db.sections_between(
        conn, start, end, ask_below=ask_below, audit_share=audit_share
    ):
        try:
            mode = Mode(r.mode)
        except ValueError:
            continue
        out.append(
            SectionRecord(
                trip_id=str(r.trip_id),
                section_id=str(r.id),
                start=r.started_at,
                end=r.ended_at,
                mode=mode,
                distance_m=max(r.distance_m, 0.0),
                co2_kg=max(r.co2_kg, 0.0),
                origin=r.origin,
                destination=r.destination,
                purpose=r.purpose,
                occupants=occupants_for(r.occupants, profile) if mode is Mode.CAR else r.occupants,
                to_confirm=r.to_confirm,
            )
        )
    return out


async def _recurring(
    conn: Conn, at: datetime, profile: VehicleProfile, params: CoachingParams
) -> list[RecurringTrip]:
    places = await _places(conn, at, params)
    since = at - timedelta(days=params.recurring_lookback_days)
    sections = await _sections(conn, since, at, profile=profile)
    return recurring_trips(trips_from_sections(sections), places, params.recurring)


async def _alternatives(
    conn: Conn, at: datetime, profile: VehicleProfile, params: CoachingParams
) -> list[TripAlternatives]:
    trips = await _recurring(conn, at, profile, params)
    reg = await adopted_registry(conn)
    return alternatives_for_recurring(
        trips, profile, reg, deployment=params.deployment, params=params.alternatives
    )


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _year_bounds(year: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return local_midnight(date(year, 1, 1), tz), local_midnight(date(year + 1, 1, 1), tz)


# ---- the coach's answers ---------------------------------------------------------------------


async def footprint(
    conn: Conn,
    principal: Principal,
    period: Period,
    at: datetime,
    *,
    params: CoachingParams = DEFAULT_COACHING_PARAMS,
) -> FootprintReport:
    """The period containing ``at`` by mode and purpose, with its trend (only the window is read).
    Purposes are the trips' own, as ``/v1/trips`` shows them (named with the home and work known
    when each trip was made, or confirmed since)."""
    at = _aware(at)
    tz = params.tz
    current = period_start(local_date(at, tz), period)
    start = local_midnight(shift(current, period, -max(params.summary.previous_periods, 1)), tz)
    end = local_midnight(shift(current, period, 1), tz)
    async with as_user(conn, principal.role):
        profile = await trips_db.vehicle_profile(conn)
        sections = await _sections(
            conn, start, end, profile=profile, ask_below=params.ask_below, audit_share=params.audit_share
        )
    return footprint_report(sections, period, at, params.summary)


async def goal(
    conn: Conn, principal: Principal, at: datetime, *, params: CoachingParams = DEFAULT_COACHING_PARAMS
) -> Goal:
    """The yearly budget (the tester's, else the default), the part used up to ``at`` and the pace."""
    at = _aware(at)
    year_start, _ = _year_bounds(at.astimezone(params.tz).year, params.tz)
    async with as_user(conn, principal.role):
        profile = await trips_db.vehicle_profile(conn)
        own = await coaching_db.goal(conn)
        first = await coaching_db.first_data(conn)
        sections = await _sections(conn, year_start, at + timedelta(microseconds=1), profile=profile)
    budget = params.budget
    if own is not None:
        budget = msgspec.structs.replace(budget, personal_budget_kg=own.yearly_budget_kg)
    return Goal(status=budget_status(sections, at, budget, first_data=first), personal=own is not None)


async def set_goal(
    conn: Conn,
    principal: Principal,
    yearly_budget_kg: float | None,
    at: datetime,
    *,
    params: CoachingParams = DEFAULT_COACHING_PARAMS,
) -> Goal:
    """Set the tester's yearly mobility budget in kgCO2e (``None``: back to the default)."""
    if yearly_budget_kg is not None and not 0 < yearly_budget_kg <= 100_000:
        raise Unprocessable("yearly_budget_kg must be between 0 (excluded) and 100000 kgCO2e")
    async with as_user(conn, principal.role):
        if yearly_budget_kg is None:
            await coaching_db.forget_goal(conn)
        else:
            await coaching_db.save_goal(conn, yearly_budget_kg)
    return await goal(conn, principal, at, params=params)


async def places(
    conn: Conn, principal: Principal, at: datetime, *, params: CoachingParams = DEFAULT_COACHING_PARAMS
) -> PlacesView:
    """Home and work: as confirmed, else as guessed from the stays before ``at``."""
    async with as_user(conn, principal.role):
        return PlacesView(places=await _places(conn, _aware(at), params))


async def name_trip_purposes(
    conn: Conn, at: datetime, *, since: datetime = EARLIEST, params: CoachingParams = DEFAULT_COACHING_PARAMS
) -> int:
    """Store the purposes named from home and work on the trips started since ``since``.

    Call inside the tester's partition; returns how many trips changed. A purpose someone else
    set is kept (see :mod:`core.coaching.purpose`).
    """
    return await _rename(conn, await _places(conn, _aware(at), params), since, None, params)


async def name_new_trip_purposes(
    conn: Conn,
    at: datetime,
    *,
    since: datetime,
    last: PurposesNaming,
    params: CoachingParams = DEFAULT_COACHING_PARAMS,
) -> PurposesNaming:
    """The pipeline's naming: the purposes of the trips started from ``since`` up to ``at`` (the
    step's last fix), from the home and work guessed as of ``at``. When those differ from the ones
    the last naming used (``last``), the earlier trips of the places' look-back are filled in, never
    overwritten: one without a purpose is named, and one named while home or work was not yet
    known becomes a ``commute`` when it is one. So a new tester's first trips are named once home
    and work are known, and a tester who moves keeps the commutes made from the old home (renamed
    with the new one, they became "work" trips and left the FMD days). Later trips (a step
    reprocessing part of a long history) keep the names of their own time.

    A guess can also be refuted rather than moved on from: late fixes may show that the places of
    the last naming's own time were not what it guessed (a desk that looked like a day's work until
    the missing fixes showed the phone elsewhere). So the places as of ``last.at`` are guessed again
    with what is now known; when they differ from ``last``'s, each earlier trip whose derived
    purpose is the one ``last``'s places give it, and not the one the revised places give, was named
    from the refuted guess and is named from the revised places (as one pass over the same fixes
    would). Trips named from older places (a mover's old commutes) match neither and are left.
    Returns what this naming used, for the next step (migrations 0021 and 0033).
    """
    at = _aware(at)
    where = await _places(conn, at, params)
    key = places_key(where)
    await _rename(conn, where, since, at, params)
    look_back = at - timedelta(days=params.places_lookback_days)
    if key != last.key and look_back < since:
        used = None if last.places is None else _decoded_places(last.places)
        if used is not None and last.at is not None:
            revised = await _places(conn, last.at, params)
            if places_key(revised) != last.key:
                await _revise(conn, used, revised, since=look_back, until=since, params=params)
        await _rename(conn, where, look_back, since, params, fill_only=True)
    return PurposesNaming(key=key, at=at, places=_exact_places(where))


def places_key(places: Places) -> str:
    """Home and work, rounded to about 100 m ("-" for one not known): a change of the guess."""
    return "|".join(
        "-" if p is None else f"{p.location[0]:.3f},{p.location[1]:.3f}" for p in (places.home, places.work)
    )


def _exact_places(places: Places) -> str:
    """Home and work as the key writes them, unrounded (to a centimetre): the places themselves."""
    return "|".join(
        "-" if p is None else f"{p.location[0]:.7f},{p.location[1]:.7f}" for p in (places.home, places.work)
    )


def _decoded_places(text: str) -> Places | None:
    """The places :func:`_exact_places` wrote (``None`` for a value it did not write)."""
    parts = text.split("|")
    if len(parts) != 2:
        return None
    found: list[Place | None] = []
    for part in parts:
        if part == "-":
            found.append(None)
            continue
        lat, _, lon = part.partition(",")
        try:
            found.append(Place(location=(float(lat), float(lon)), source=PlaceSource.GUESSED))
        except ValueError:
            return None
    return Places(home=found[0], work=found[1])


async def _revise(
    conn: Conn, used: Places, revised: Places, *, since: datetime, until: datetime, params: CoachingParams
) -> int:
    """Rename the trips started from ``since`` up to ``until`` that were named from ``used`` (their
    derived purpose is the one it gives them) with the one ``revised`` gives, where it differs."""
    changes = []
    for t in await coaching_db.trip_ends(conn, since, until):
        if t.purpose is not None and t.purpose not in DERIVED:
            continue  # set by the tester: kept
        if t.purpose != resolved_purpose(None, t.origin, t.destination, used, params.purpose):
            continue  # named from other places than the refuted ones
        named = resolved_purpose(None, t.origin, t.destination, revised, params.purpose)
        if named != t.purpose:
            changes.append((t.id, named))
    await coaching_db.set_purposes(conn, changes)
    return len(changes)


async def _rename(
    conn: Conn,
    where: Places,
    since: datetime,
    until: datetime | None,
    params: CoachingParams,
    *,
    fill_only: bool = False,
) -> int:
    """Name the trips started from ``since`` up to ``until`` from ``where``; with ``fill_only``,
    only those without a purpose, and derived ones that turn out to be commutes."""
    changes = []
    for t in await coaching_db.trip_ends(conn, since, until):
        named = resolved_purpose(t.purpose, t.origin, t.destination, where, params.purpose)
        if fill_only and t.purpose is not None and named != Purpose.COMMUTE:
            continue
        if named != t.purpose:
            changes.append((t.id, named))
    await coaching_db.set_purposes(conn, changes)
    return len(changes)


async def confirm_places(
    conn: Conn,
    principal: Principal,
    home: tuple[float, float] | None,
    work: tuple[float, float] | None,
    at: datetime,
    *,
    params: CoachingParams = DEFAULT_COACHING_PARAMS,
) -> PlacesView:
    """Replace the confirmed home and work (``None``: use the guess) and rename trips' purposes."""
    async with as_user(conn, principal.role):
        for kind, where in (("home", home), ("work", work)):
            if where is None:
                await coaching_db.forget_place(conn, kind)
            else:
                await coaching_db.confirm_place(conn, kind, where[0], where[1])
        named = await name_trip_purposes(conn, at, params=params)
        return PlacesView(places=await _places(conn, _aware(at), params), named_trips=named)


async def recurring(
    conn: Conn, principal: Principal, at: datetime, *, params: CoachingParams = DEFAULT_COACHING_PARAMS
) -> list[RecurringTrip]:
    async with as_user(conn, principal.role):
        profile = await trips_db.vehicle_profile(conn)
        return await _recurring(conn, _aware(at), profile, params)


async def alternatives(
    conn: Conn, principal: Principal, at: datetime, *, params: CoachingParams = DEFAULT_COACHING_PARAMS
) -> list[TripAlternatives]:
    async with as_user(conn, principal.role):
        profile = await trips_db.vehicle_profile(conn)
        return await _alternatives(conn, _aware(at), profile, params)


async def fmd(
    conn: Conn, principal: Principal, year: int, *, params: CoachingParams = DEFAULT_COACHING_PARAMS
) -> FmdDays:
    """The sustainable-mobility days of ``year`` (local calendar)."""
    start, end = _year_bounds(year, params.tz)
    async with as_user(conn, principal.role):
        profile = await trips_db.vehicle_profile(conn)
        sections = await _sections(conn, start, end, profile=profile)
    return fmd_days(sections, year, params.fmd)


async def attestation(
    conn: Conn,
    principal: Principal,
    year: int,
    *,
    employer: str,
    name: str,
    lang: Language,
    today: date,
    params: CoachingParams = DEFAULT_COACHING_PARAMS,
) -> Attestation:
    days = await fmd(conn, principal, year, params=params)
    return Attestation(
        employer_name=employer, employee_name=name, year=year, days=days.days, issued_on=today, lang=lang
    )


async def weekly(
    conn: Conn,
    principal: Principal,
    at: datetime,
    lang: Language,
    *,
    params: CoachingParams = DEFAULT_COACHING_PARAMS,
) -> WeeklyMessage:
    """This week against last week, and the one alternative that would save the most."""
    at = _aware(at)
    tz = params.tz
    this_week = period_start(local_date(at, tz), Period.WEEK)
    start = local_midnight(shift(this_week, Period.WEEK, -1), tz)
    end = local_midnight(shift(this_week, Period.WEEK, 1), tz)
    async with as_user(conn, principal.role):
        profile = await trips_db.vehicle_profile(conn)
        sections = await _sections(
            conn, start, end, profile=profile, ask_below=params.ask_below, audit_share=params.audit_share
        )
        options = await _alternatives(conn, at, profile, params)
    return weekly_message(sections, at, options, lang, params.weekly)
