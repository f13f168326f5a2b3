"""The incremental pipeline: after each upload, only the affected tester and time range.

Per tester, in ONE transaction: claim their pending range (``sillage.pipeline_dirty``, locked so
a concurrent upload waits; left for the next round while an answer, a hide, an export or an
erasure of theirs is under way), enter their partition, re-segment from the start of the last stay
that ended before the change (or from a later signal gap where one pass cuts too), classify the
sections, replace the derived rows from that point on, save the watermark
(``pipeline_state.complete_until``) and release or defer the pending range. A crash at
any point rolls everything back: nothing is lost (the range stays pending) and nothing is
duplicated (derived rows are replaced, with ids derived from start times). e-mission runs the same
steps as a daily batch (its per-user, per-stage watermarks are the idea kept here).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import itertools
import logging
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec
import numpy as np

from core import calibration
from core.calibration import ConfidenceCalibration
from core.co2 import Registry
from core.co2.profile import VehicleProfile
from core.fixes import Fix
from core.history import (
    ASK_BELOW,
    DEFAULT_HISTORY,
    Confirmation,
    HistoryParams,
    assist,
    kinematics,
    section_ends,
)
from core.redaction import masked
from core.segmentation import DEFAULT_PARAMS, SegmentationParams, segment
from core.segmentation.restart import fixes_either_side, gap_cut
from core.track import Track
from core.transit import DEFAULT_TRANSIT, TransitParams
from core.trips import (
    Built,
    Label,
    StayRecord,
    TripRecord,
    build,
    segmentation_without_deleted,
    stay_id,
    without_deleted,
)
from ingest import carpool, coaching
from ingest.calibration import described, questions_line, recalibrate_if_changed
from ingest.transit import NetworkCache
from models.classifier import ModeClassifier
from models.sections import Network, classify
from store import pipeline as queue
from store import trips as trips_db
from store.carpool import Tester
from store.partition import Conn, enter, leave
from store.pool import Database

log = logging.getLogger("sillage.pipeline")
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_JUST_AFTER = timedelta(microseconds=1)


class PipelineParams(msgspec.Struct, frozen=True, kw_only=True):
    poll_interval_s: float = 5.0
    testers_per_round: int = 50
    # Testers of a round processed at once, each in its own transaction on its own pooled
    # connection: a step spends most of its time waiting on about 25 database round trips, which
    # overlap (``make bench-worker`` measures the gain). The API's pool must hold this many more.
    concurrent_testers: int = 4
    # A tester whose step fails is tried again after this delay, doubled at each failure in a row
    # up to the maximum, so that failing testers never hold up the others (migration 0017).
    retry_after_s: float = 60.0
    retry_max_s: float = 3600.0
    # A step reads at most this many fixes (a history import of years is processed in steps,
    # each its own transaction, each continuing where the last one's complete part ended).
    max_fixes_per_step: int = 200_000
    # When a step's window ends inside a stay longer than the window (a logger left on a desk for
    # days at one fix a second), it could never get past it: the step is read again keeping one fix
    # per bucket of these many seconds, the next only if the first still does not reach past it.
    thinned_reads_s: tuple[float, ...] = (10.0, 60.0)
    segmentation: SegmentationParams = DEFAULT_PARAMS
    # The tester's own confirmations on the same route inform their new sections (core.history).
    history: HistoryParams = DEFAULT_HISTORY
    # The deployment's transit stops, where a GTFS feed was imported, weigh transit modes.
    transit: TransitParams = DEFAULT_TRANSIT
    # The probability shown for each section's mode, calibrated on the deployment's own answers
    # (core.calibration, SILLAGE_CALIBRATION); applied only with the model version it was fitted on.
    calibration: ConfidenceCalibration | None = None


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    user_id: uuid.UUID
    reprocessed_from: datetime
    fixes: int
    trips: int
    complete_until: datetime | None


def _compute(
    role: str,
    *,
    registry: Registry,
    fixes: list[Fix],
    sources: list[str],
    start: datetime,
    labels: list[Label],
    deleted: list[tuple[datetime, datetime]],
    confirmations: list[Confirmation],
    recent: list[dict[str, float]],
    profile: VehicleProfile,
    classifier: ModeClassifier,
    network: Network | None,
    params: PipelineParams,
    now: datetime,
) -> tuple[Built, float, bool]:
    """The CPU part (run in a thread): segment, classify (weighed by the transit network, rejoining
    pieces of one vehicle leg), mix in the tester's history (``recent``: the model's own
    probabilities of their sections before this step, oldest first), build records. ``fixes``
    (with the tracker of each in ``sources``) may begin before ``start``, as context for cleaning
    only (the choice between trackers, GPS jumps). Without the trips the tester deleted (a thinned
    read gets past a long stay only with a trip that is kept: else it kept nothing, and the next
    step did the same). Also returns the segmentation's ``complete_until_s`` and whether an open
    tail remains."""
    seg = segment(
        Track.from_fixes(fixes, sources),
        params.segmentation,
        now_s=now.timestamp(),
        start_s=start.timestamp(),
    )
    seg = segmentation_without_deleted(seg, deleted)
    confirmed = [(lab.started_at.timestamp(), lab.ended_at.timestamp()) for lab in labels]
    classified = classify(classifier, seg, confirmed=confirmed, params=params.segmentation, network=network)
    seg = classified.seg
    starts, ends = section_ends(seg.cleaned, [(b.start, b.end) for t in seg.trips for b in t.sections])
    # The features of the sections as classified (rejoined pieces as one), for the kinematic match.
    points = kinematics(classified.x)
    pool = np.asarray([[r.get(c, 0.0) for c in classified.classes] for r in recent], dtype=np.float64)
    assisted = assist(
        classified.proba,
        classified.classes,
        starts,
        ends,
        confirmations,
        pool=pool.reshape(len(recent), len(classified.classes)),
        points=points,
        params=params.history,
    )
    shown = calibration.apply(assisted.proba, params.calibration)
    built = build(
        role,
        seg,
        shown,
        assisted.classes,
        from_history=assisted.from_history,
        model_probabilities=classified.proba,
        kinematics=points,
        uncalibrated=None if params.calibration is None else assisted.proba.max(axis=1, initial=0.0),
        model_version=classifier.version,
        labels=labels,
        profile=profile,
        registry=registry,
    )
    return without_deleted(built, deleted), seg.complete_until_s, seg.open_tail


def _rebuilt_until(built: Built, start: datetime, complete_until: datetime | None) -> datetime:
    """Where what a windowed step rebuilt from ``start`` ends: the watermark, or just after the
    last row it built if one starts later (a flight); ``start`` itself (nothing replaced) when it
    has neither."""
    bound = start if complete_until is None else max(start, complete_until)
    starts = [s.started_at for s in built.stays] + [t.started_at for t in built.trips]
    if starts:
        bound = max(bound, max(starts) + _JUST_AFTER)
    return bound


def _advanced(built: Built, until_s: float, floor_s: float, *, thinned: bool) -> bool:
    """Whether a step's watermark moved past where the change began. Thinning moves a stay's start
    by a few seconds, which is no progress: a thinned read advances only once a trip starts after
    the long stay."""
    moved = math.isfinite(until_s) and until_s > floor_s
    return moved and (not thinned or any(t.started_at.timestamp() >= floor_s for t in built.trips))


class _Kept(msgspec.Struct, frozen=True, kw_only=True):
    """What a step that read thinned fixes keeps (:func:`_thinned`)."""

    built: Built
    since: datetime  # where what it keeps begins: it replaces what was stored from there
    complete_until: datetime | None  # the watermark
    cut_short: bool  # kept only up to the stay the first trip after the long stay arrives at
    # Where that stay begins (the watermark), when the trip arrives at one: a step restarting there
    # reads every fix, which must make a stay there too (:meth:`Pipeline._thinned_and_checked`).
    arrival: datetime | None = None


def _thinned(
    built: Built,
    floor: datetime,
    complete_until: datetime | None,
    *,
    under_way: tuple[datetime, uuid.UUID] | None,
    open_stay: uuid.UUID | None,
) -> _Kept:
    """What a step that thinned its read to get past a stay longer than its window keeps, where
    that begins, the watermark, whether the step was cut short there, and at which arrival.

    Never what lies before the long stay (the stay under way at ``floor``, where the change
    began), which steps reading every fix built: when no read got past the stay, the trip before
    it was replaced by the one built from a fix a minute, for good. The long stay itself begins
    where those steps began it (``under_way``, see :func:`_under_way`). After the stay, only the
    first trip and the stay it arrives at, with the watermark where that arrival begins, so that
    the next step goes on from there reading every fix (else days of trips were built, and kept,
    from one fix in ten). The arrival may still be open where the read ends (``open_stay``, begun
    at ``complete_until``): the watermark is its start too, and the next step gives it that start
    and id (with the watermark just after the trip, the next step, thinned from another start,
    began that stay elsewhere, under another id: the trip pointed at a stay never stored). That
    arrival is a stay of the thinned fixes; whether every fix makes one there too is for the caller
    to check (:meth:`Pipeline._thinned_and_checked`). Just after the trip when it arrives at no
    stay. Otherwise it records no progress: the stay's thinned start, seconds late, is none; nor
    does the watermark go back to it, seconds early, when it is the open arrival the rows kept
    before it say begins at ``floor`` (``under_way``): thinned from another start, the next step
    began it at the earlier watermark, under another id, and the trip arriving at it pointed at a
    stay never stored.
    """
    stays, trips = _under_way(
        [s for s in built.stays if s.ended_at >= floor],
        [t for t in built.trips if t.started_at >= floor],
        under_way,
    )
    since = min([floor, *(s.started_at for s in stays)])
    first = min(trips, key=lambda t: t.started_at, default=None)
    if first is not None and complete_until is not None:
        arrival = [s.started_at for s in stays if s.id == first.destination_stay_id]
        if open_stay is not None and first.destination_stay_id == open_stay:
            arrival.append(complete_until)
        cut = arrival[0] if arrival else first.ended_at + _JUST_AFTER
        if cut <= complete_until:
            kept = Built(
                stays=[s for s in stays if s.started_at <= cut],
                trips=[t for t in trips if t.started_at < cut],
            )
            return _Kept(
                built=kept, since=since, complete_until=cut, cut_short=True, arrival=cut if arrival else None
            )
    held = under_way is not None and under_way[0] == floor
    progress = None if complete_until is None else (floor if held else min(complete_until, floor))
    return _Kept(built=Built(stays=stays, trips=trips), since=since, complete_until=progress, cut_short=False)


async def _rebuilt_from(conn: Conn, start: datetime, floor_s: float) -> float:
    """Where a step that read thinned fixes rebuilds what it keeps from (``_thinned``'s floor):
    where the change began (``floor_s``), or the start of the stored trip under way there (late
    fixes inside a trip after the long stay). Kept, that trip still arrived at the stay it was
    built with, which the thinned read began elsewhere: a trip pointing at a stay no longer
    stored, and overlapping the one stored in its place."""
    trip_at = await trips_db.trip_under_way(conn, datetime.fromtimestamp(floor_s, UTC))
    return floor_s if trip_at is None else max(start, trip_at).timestamp()


def _under_way(
    stays: list[StayRecord], trips: list[TripRecord], under_way: tuple[datetime, uuid.UUID] | None
) -> tuple[list[StayRecord], list[TripRecord]]:
    """The rows a thinned step keeps from where the change began, with their first stay (when no
    trip begins before it, it is the long stay under way there) begun where the rows kept before
    it say (``under_way``: its start and id), and the trips that leave it pointing at it.

    Thinning moves a stay's start by a few seconds: the long stay rebuilt from one fix a minute
    began at the last fix of the trip that arrived at it (in the same minute), or a minute after
    its first fix. That trip, built from every fix, is kept: its destination was a stay no longer
    stored (another start, another id), or it ended inside the stay rebuilt in its place. A stay
    the thinned read ended where the long stay begins (the end of that trip, across a signal gap,
    seen otherwise from fixes thinned otherwise) lies before it: it is not kept either.
    """
    if under_way is None:
        return stays, trips
    start, sid = under_way
    before = {s.id for s in stays if s.ended_at <= start}
    if not any(t.origin_stay_id in before for t in trips):
        stays = [s for s in stays if s.id not in before]
    first = min(stays, key=lambda s: s.started_at, default=None)
    if first is None or start >= first.ended_at or any(t.started_at <= first.started_at for t in trips):
        return stays, trips
    anchored = msgspec.structs.replace(first, id=sid, started_at=start)

    def linked(t: TripRecord) -> TripRecord:
        return msgspec.structs.replace(
            t,
            origin_stay_id=sid if t.origin_stay_id == first.id else t.origin_stay_id,
            destination_stay_id=sid if t.destination_stay_id == first.id else t.destination_stay_id,
        )

    return [anchored if s is first else s for s in stays], [linked(t) for t in trips]


class _Window(msgspec.Struct, frozen=True, kw_only=True):
    """Fixes a step read (oldest first), the tracker that sent each, and whether more follow."""

    fixes: list[Fix]
    sources: list[str]
    truncated: bool

    def seen_at(self, now: datetime) -> datetime:
        """The time segmentation takes as now: more fixes follow a truncated window, so what ends
        at its last fix is not closed by a "gap" before ``now``."""
        return self.fixes[-1].ts if self.truncated else now


class _Read(msgspec.Struct, frozen=True, kw_only=True):
    """A window of fixes and what was built from it (:func:`_compute`, without deleted trips)."""

    window: _Window
    seen_at: datetime
    built: Built
    until_s: float  # segmentation's complete_until_s
    open_tail: bool

    @property
    def complete_until(self) -> datetime | None:
        return datetime.fromtimestamp(self.until_s, UTC) if math.isfinite(self.until_s) else None


# What a step builds a window with (:func:`_compute` with all but the fixes and now given).
Compute = Callable[..., tuple[Built, float, bool]]


async def _built_from(compute: Compute, window: _Window, now: datetime) -> _Read:
    """``window`` and what ``compute`` builds from it (in a thread), taking ``now`` as now unless
    more fixes follow the window."""
    seen_at = window.seen_at(now)
    built, until_s, open_tail = await asyncio.to_thread(
        compute, fixes=window.fixes, sources=window.sources, now=seen_at
    )
    return _Read(window=window, seen_at=seen_at, built=built, until_s=until_s, open_tail=open_tail)


def _with_every_fix(thinned: _Window, full: _Window) -> _Window:
    """The thinned read ``thinned`` with its fixes in the time ``full`` (every fix from some point
    on, as far as a window reads) spans replaced by ``full``'s: thinned before, every fix there,
    thinned again after it when the thinned read reaches further. At most two windows of fixes,
    which the step holds anyway while it compares them."""
    if not full.fixes:
        return thinned
    first, last = full.fixes[0].ts, full.fixes[-1].ts
    pairs = list(zip(thinned.fixes, thinned.sources, strict=True))
    before = [p for p in pairs if p[0].ts < first]
    after = [p for p in pairs if p[0].ts > last]
    joined = [*before, *zip(full.fixes, full.sources, strict=True), *after]
    return _Window(
        fixes=[f for f, _ in joined],
        sources=[s for _, s in joined],
        # The last fix is the thinned read's when it reaches past every fix read: its cut is the end.
        truncated=thinned.truncated if after else full.truncated,
    )


def _begins_a_stay(full: _Window, at: datetime, params: SegmentationParams, now: datetime) -> bool:
    """Whether every fix from ``at`` on (``full``, read as a step restarting at ``at`` reads it,
    with the fixes before it as context) makes a stay that begins at ``at``: that step rebuilds the
    stay with the same start, hence the same id, which the trip kept before it arrives at."""
    seg = segment(
        Track.from_fixes(full.fixes, full.sources),
        params,
        now_s=full.seen_at(now).timestamp(),
        start_s=at.timestamp(),
    )
    return any(datetime.fromtimestamp(s.t_start_s, UTC) == at for s in seg.stays)


def _after_a_gap(
    rows: list[tuple[datetime, datetime]],
    *,
    watermark: datetime | None,
    changed_from: datetime,
    new_from: datetime,
    gap_s: float,
) -> tuple[datetime, datetime] | None:
    """The last point where one of ``rows`` (stored stays and trips, oldest first) began, or the
    open tail did (at the ``watermark``), at or before ``changed_from``, more than ``gap_s`` after
    the rows begun before it end; and where they end. A segmentation began an item there, after a
    signal gap unless fixes it set aside lie between (``core.segmentation.restart`` reads them).

    A row must have begun before ``new_from``, the first new fix: a fix stored since at that
    instant (another tracker's, kept in its place) is not the one the row began at. The open tail
    too: a fix that replaces another marks the change from a microsecond before its instant
    (``insert_fixes``), so a watermark at that instant is after ``changed_from``."""
    starts = [a for a, _ in rows]
    points = [(a, k) for k, a in enumerate(starts) if a < new_from]
    if watermark is not None and watermark <= changed_from:
        points.append((watermark, bisect.bisect_left(starts, watermark)))
    ended = list(itertools.accumulate((b for _, b in rows), max))  # where rows[: k + 1] end
    for at, k in sorted(points, reverse=True):
        if k > 0 and ended[k - 1] < at - timedelta(seconds=gap_s):
            return at, ended[k - 1]
    return None


def _gone(conn: Conn) -> bool:
    """Whether a lane's connection can no longer serve: closed, or taken back by the pool when the
    database went away (asyncpg then refuses even to say whether it is closed)."""
    try:
        return bool(conn.is_closed())
    except asyncpg.InterfaceError:
        return True


class Pipeline:
    def __init__(self, classifier: ModeClassifier, params: PipelineParams | None = None) -> None:
        self.classifier = classifier
        params = params or PipelineParams()
        fitted = params.calibration
        if fitted is not None and fitted.model_version != classifier.version:
            # A model upgrade must not stop serving: the old model's calibration is set aside, and
            # the operator told to fit one for the new model.
            log.warning(
                "calibration not applied: fitted for model %s, serving model %s"
                " (run sillage models calibrate)",
                fitted.model_version,
                classifier.version,
            )
            params = msgspec.structs.replace(params, calibration=None)
        self.params = params
        self.network = NetworkCache(self.params.transit)

    async def process_user(
        self, conn: Conn, user_id: uuid.UUID, role: str, now: datetime, *, as_of: datetime | None = None
    ) -> Outcome | None:
        """Process one tester's pending range; None when nothing was due (or another worker has it).

        ``now`` decides what is due; ``as_of`` (default ``now``) is the time segmentation treats
        as current, which closes a trip whose signal stopped more than ``gap_s`` before it.
        """
        async with conn.transaction():
            claimed = await queue.lock_dirty(conn, user_id, now)
            if claimed is None:
                return None
            network = await self.network.current(conn)  # shared reference data, read as the API
            await enter(conn, role)
            state = await trips_db.pipeline_state(conn)
            changed_from = claimed[0]
            if state is not None and state.complete_until is not None:
                changed_from = min(changed_from, state.complete_until)
            start = await self._restart_point(
                conn, changed_from, None if state is None else state.complete_until, new_from=claimed[0]
            )
            if state is not None and state.frozen_before is not None:
                # Before it, retention deleted the fixes: what was derived there cannot be rebuilt.
                start = max(start, state.frozen_before)
            labels = await trips_db.labels_from(conn, start)
            deleted = await trips_db.deleted_trips_from(conn, start)
            history = self.params.history
            confirmations = await trips_db.confirmations(
                conn,
                history.max_confirmations,
                history.along_route_confirmations if history.along_route else 0,
            )
            recent = await trips_db.recent_model_probabilities(conn, start, history.own_sections)
            profile = await trips_db.vehicle_profile(conn)
            registry = await coaching.adopted_registry(conn)
            # A truncated window must end past where the change began (the last watermark, when the
            # step continues a history): else the next step would read the same window again.
            floor_s = max(start, changed_from).timestamp()
            # What a read is built with, besides its fixes and the time taken as now.
            compute = functools.partial(
                _compute,
                role,
                start=start,
                labels=labels,
                deleted=deleted,
                confirmations=confirmations,
                recent=recent,
                profile=profile,
                registry=registry,
                classifier=self.classifier,
                network=network,
                params=self.params,
            )
            read, rebuilt_from_s = await self._read(
                conn, compute, start=start, floor_s=floor_s, now=as_of or now
            )
            built, complete_until = read.built, read.complete_until
            cut_short, replaced_from = False, start
            if rebuilt_from_s is not None:  # the step read thinned fixes
                floor = datetime.fromtimestamp(rebuilt_from_s, UTC)
                # The stay a windowed step ended in, when it was still open, began at the watermark
                # (where this step continues) with this id.
                under_way = await trips_db.stay_under_way(conn, floor, open_id=stay_id(role, floor_s))
                read, kept = await self._thinned_and_checked(
                    conn, compute, read, role=role, floor=floor, under_way=under_way, now=as_of or now
                )
                built, replaced_from, complete_until, cut_short = (
                    kept.built,
                    kept.since,
                    kept.complete_until,
                    kept.cut_short,
                )
            # A thinned read advances with a trip from where it rebuilds.
            advanced = _advanced(
                read.built,
                read.until_s,
                floor_s if rebuilt_from_s is None else rebuilt_from_s,
                thinned=rebuilt_from_s is not None,
            )
            fixes, seen_at, open_tail, truncated = (
                read.window.fixes,
                read.seen_at,
                read.open_tail,
                read.window.truncated,
            )
            windowed = truncated or cut_short
            # A step that read only a window of the history replaces only what it rebuilt: the
            # trips after it stay visible until the next step (else they vanished from the API for
            # a few seconds per 200,000 fixes of a long history being processed again).
            await trips_db.replace_from(
                conn,
                replaced_from,
                built,
                until=_rebuilt_until(built, replaced_from, complete_until) if windowed else None,
            )
            # Home and work as of the window's last fix, not the clock: an imported history is named
            # with the places of its own time (as of today, its trips would get none).
            purposes = await coaching.name_new_trip_purposes(
                conn,
                fixes[-1].ts if fixes else seen_at,
                since=start,
                last=trips_db.PurposesNaming() if state is None else state.purposes,
            )
            await trips_db.save_pipeline_state(
                conn, complete_until, self.classifier.version, purposes=purposes
            )
            await leave(conn)
            # Sections were rebuilt with one occupant: re-apply a confirmed carpool, if any.
            await carpool.apply_confirmed_carpools(
                conn, Tester(user_id=user_id, role=role), registry=registry
            )
            last = fixes[-1].ts if fixes else None
            if windowed and advanced and complete_until is not None:
                await queue.defer_dirty(conn, user_id, complete_until, last or complete_until, now)
            elif open_tail and last is not None and complete_until is not None:
                # Look again once the signal gap after the last fix has elapsed (measured on the
                # data's clock, scheduled on the wall clock), or sooner when new fixes arrive.
                # Once it has, segmentation closes the tail and the range is finished: deciding
                # by comparing the watermark with the last fix would keep a tester whose last fix
                # cleaning dropped, or whose watermark rounds to the microsecond of that fix, due
                # at every poll for ever.
                wait = last + timedelta(seconds=self.params.segmentation.gap_s + 1) - seen_at
                await queue.defer_dirty(conn, user_id, complete_until, last, now + max(wait, timedelta(0)))
            else:
                await queue.finish_dirty(conn, user_id)
        return Outcome(
            user_id=user_id,
            reprocessed_from=start,
            fixes=len(fixes),
            trips=len(built.trips),
            complete_until=complete_until,
        )

    @property
    def _context_s(self) -> float:
        """How far back of a fix cleaning's choice between two trackers reads."""
        return 1.5 * self.params.segmentation.tracker_window_s

    async def _reads_from(self, conn: Conn, at: datetime) -> datetime:
        """Where a step restarting at ``at`` reads fixes from. Cleaning's choice between two trackers
        looks at windows that reach back before the restart point, and its excursion rule at the
        segment before a jump: read those fixes too, as context only (else a step restarting
        mid-window chose otherwise than one pass over the history, and a jump just after the restart
        point was kept), however seldom the tracker logs."""
        return await trips_db.context_from(
            conn, at, self._context_s, self.params.segmentation.max_outlier_run_fixes + 1
        )

    async def _read(
        self, conn: Conn, compute: Compute, *, start: datetime, floor_s: float, now: datetime
    ) -> tuple[_Read, float | None]:
        """A step's window from ``start`` on, and what it builds: every fix, else, when they do not
        reach past where the change began (``floor_s``), one fix per bucket of each of
        ``thinned_reads_s`` in turn; with where the thinned read rebuilds from (:func:`_rebuilt_from`;
        None when it read every fix)."""
        limit = self.params.max_fixes_per_step
        read_from = await self._reads_from(conn, start)
        rebuilt_from_s: float | None = None  # the same for every thinned read: asked at the first
        for every_s in (None, *self.params.thinned_reads_s):
            fixes, sources = await trips_db.fixes_from(
                conn, read_from, limit, every_s=every_s, buckets_from=start
            )
            window = _Window(fixes=fixes, sources=sources, truncated=len(fixes) >= limit)
            read = await _built_from(compute, window, now)
            if every_s is not None and rebuilt_from_s is None:
                rebuilt_from_s = await _rebuilt_from(conn, start, floor_s)
            # A thinned read advances with a trip from where it rebuilds.
            floor = floor_s if rebuilt_from_s is None else rebuilt_from_s
            if not window.truncated or _advanced(
                read.built, read.until_s, floor, thinned=every_s is not None
            ):
                break
        return read, rebuilt_from_s

    async def _every_fix_from(self, conn: Conn, at: datetime) -> _Window:
        """Every fix a step restarting at ``at`` reads: a window, with the context before it."""
        limit = self.params.max_fixes_per_step
        fixes, sources = await trips_db.fixes_from(conn, await self._reads_from(conn, at), limit)
        return _Window(fixes=fixes, sources=sources, truncated=len(fixes) >= limit)

    async def _thinned_and_checked(
        self,
        conn: Conn,
        compute: Compute,
        read: _Read,
        *,
        role: str,
        floor: datetime,
        under_way: tuple[datetime, uuid.UUID] | None,
        now: datetime,
    ) -> tuple[_Read, _Kept]:
        """What a step that read thinned fixes keeps (:func:`_thinned`), with the read it keeps it
        from: ``read``, or ``read`` with every fix from the stay its first trip arrives at on, when
        every fix makes no stay begin there.

        Thinning is made for stays: one fix in ten makes the same stay of a desk as every fix. The
        window also ends inside a trip longer than it (or a trip and a stay not yet long enough to
        be one), read thinned as well to get past it, and one fix in ten can make a stay of a
        five-minute stop that every fix, with two thrown 120 and 200 m off around it, makes none
        of. Kept, with the watermark at its start, that stay was where the steps after restarted,
        reading every fix: they found no stay, replaced it with a trip on from there, and the trip
        kept before it arrived at a stay no longer stored. So the arrival is checked as the step
        restarting there will read it, every fix from there on (a window, and its context). When
        they make no stay begin there, the thinned fixes from there on, as far as that window
        reaches, are replaced by every fix, the read built again, and its arrival checked in turn:
        the trip goes on past the stop, as in one pass, to a stay of every fix. Each arrival
        checked is later than the last (else it is kept unchecked), so the step ends; most steps
        check one, a long stay's arrival, and keep it.
        """
        checked: datetime | None = None
        while True:
            kept = _thinned(
                read.built,
                floor,
                read.complete_until,
                under_way=under_way,
                open_stay=stay_id(role, read.until_s) if math.isfinite(read.until_s) else None,
            )
            at = kept.arrival
            if at is None or (checked is not None and at <= checked):
                return read, kept
            checked = at
            full = await self._every_fix_from(conn, at)
            if await asyncio.to_thread(_begins_a_stay, full, at, self.params.segmentation, now):
                return read, kept
            read = await _built_from(compute, _with_every_fix(read.window, full), now)

    async def _restart_point(
        self, conn: Conn, changed_from: datetime, watermark: datetime | None, *, new_from: datetime
    ) -> datetime:
        """Where a step segments again from for a change at ``changed_from`` (the watermark, or
        ``new_from``, the first new fix): the start of the last stay that ended before it, or the
        first fix after a later signal gap where segmentation cuts as one pass does
        (``core.segmentation.restart``). Without the gap, a history with no stay (a tracker that
        logs only when moving) was read again from its first fix, and a step that did not get past
        its window was read thinned, as if a stay were under way (``_thinned``)."""
        seg = self.params.segmentation
        points = await trips_db.restart_point(conn, changed_from)
        start = points.stay_at or EARLIEST
        after = _after_a_gap(
            points.rows, watermark=watermark, changed_from=changed_from, new_from=new_from, gap_s=seg.gap_s
        )
        if after is None:
            return start
        gap_at, before_ends_at = after
        fixes, sources = await trips_db.fixes_around(conn, gap_at, fixes_either_side(seg), self._context_s)
        cut = gap_cut(Track.from_fixes(fixes, sources), gap_at.timestamp(), seg)
        # What is kept before the gap must end where one pass ends it: built before later fixes
        # came, cleaning may have set its last fixes aside (then it is rebuilt).
        return gap_at if cut is not None and datetime.fromtimestamp(cut, UTC) == before_ends_at else start

    async def run_due(
        self, db: Database, now: datetime | None = None, *, as_of: datetime | None = None
    ) -> list[Outcome]:
        """Process every tester whose pending range is due (one transaction each), up to
        ``concurrent_testers`` at once; the outcomes in the order the testers were due."""
        at = now or datetime.now(UTC)
        async with db.connection() as conn:
            due = await queue.due_users(conn, at, self.params.testers_per_round)
        if not due:
            return []
        outcomes: dict[int, Outcome] = {}
        pending = iter(enumerate(due))  # shared by the lanes: each takes the next tester

        async def lane() -> None:
            async with db.connection() as conn:
                for i, (user_id, role) in pending:
                    outcome = await self._step(conn, user_id, role, at, as_of)
                    if outcome is not None:
                        outcomes[i] = outcome

        lanes = min(max(self.params.concurrent_testers, 1), len(due), db.max_size)
        results = await asyncio.gather(*(lane() for _ in range(lanes)), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if len(errors) == lanes:  # no lane got a connection: the round failed (nothing is lost)
            raise errors[0]
        for error in errors:  # the other lanes took this lane's testers
            log.warning(
                "pipeline lane stopped", extra={"error": type(error).__name__, "detail": masked(str(error))}
            )
        return [outcomes[i] for i in sorted(outcomes)]

    async def _step(
        self, conn: Conn, user_id: uuid.UUID, role: str, at: datetime, as_of: datetime | None
    ) -> Outcome | None:
        """One tester's step; a failure is logged and the tester put off (see ``_retry_later``)."""
        try:
            return await self.process_user(conn, user_id, role, at, as_of=as_of)
        except Exception as exc:  # one tester's failure must not stop the others
            # No identifier in logs (an erased tester must leave no trace): the error's kind
            # and its message with tester names masked; the range stays pending and retries.
            retry = await self._retry_later(conn, user_id, at)
            log.error(
                "pipeline failed for a tester",
                extra={
                    "error": type(exc).__name__,
                    "detail": masked(str(exc)),
                    "failures": None if retry is None else retry[0],
                    "retry_at": None if retry is None else retry[1].isoformat(),
                },
            )
            if _gone(conn):  # this lane's connection is gone: the other lanes go on
                raise
            return None

    async def _retry_later(self, conn: Conn, user_id: uuid.UUID, at: datetime) -> tuple[int, datetime] | None:
        """Put the failed tester's range off (its transaction rolled back, so it is still pending);
        None if that fails too (the database is away: the range stays due, nothing is lost)."""
        try:
            return await queue.retry_later(
                conn, user_id, at, self.params.retry_after_s, self.params.retry_max_s
            )
        except Exception as exc:
            log.error(
                "pipeline could not put a failed tester off",
                extra={"error": type(exc).__name__, "detail": masked(str(exc))},
            )
            return None


# A failed pass mapping the stored sections with the calibration (the database unreachable at start)
# is tried again after this long.
RECALIBRATE_RETRY_S = 60.0


class PipelineWorker:
    """Runs :meth:`Pipeline.run_due` in the API process: woken by uploads, else every few seconds;
    and, once at start, maps the stored sections with the deployment's calibration if they show
    another one (:mod:`ingest.calibration`)."""

    def __init__(
        self,
        pipeline: Pipeline,
        db: Database,
        *,
        calibration: ConfidenceCalibration | None = None,
        ask_below: float = ASK_BELOW,
    ) -> None:
        self.pipeline = pipeline
        self.db = db
        # The deployment's calibration (SILLAGE_CALIBRATION), which the sections stored before it
        # was installed are mapped with in the background (ingest.calibration), even when the
        # pipeline sets it aside for a model it was not fitted on: it still holds for theirs.
        self.calibration = calibration
        self.ask_below = ask_below  # the deployment's, for what the mapping does to the questions
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._recalibrating: asyncio.Task[None] | None = None

    def poke(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="sillage-pipeline")
        self._recalibrating = asyncio.create_task(self._recalibrate(), name="sillage-recalibrate")

    async def stop(self) -> None:
        for task in (self._task, self._recalibrating):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._recalibrating = None

    async def _recalibrate(self) -> None:
        """Map the stored sections with the deployment's calibration if they show another one
        (:func:`ingest.calibration.recalibrate_if_changed`), beside the pipeline's rounds."""
        while True:
            try:
                async with self.db.connection() as conn:
                    done = await recalibrate_if_changed(conn, self.calibration, ask_below=self.ask_below)
                break
            except Exception:
                # The testers mapped so far stay mapped (one transaction each); the pass starts over.
                log.exception(
                    "mapping the stored sections with the calibration failed; retrying in %g s",
                    RECALIBRATE_RETRY_S,
                )
                await asyncio.sleep(RECALIBRATE_RETRY_S)
        if done is not None:
            log.info(
                "stored sections mapped again: %s; %s",
                described(done, self.calibration),
                questions_line(done),
            )

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.pipeline.params.poll_interval_s)
            self._wake.clear()
            try:
                while len(await self.pipeline.run_due(self.db)) >= self.pipeline.params.testers_per_round:
                    pass
            except Exception:
                log.exception("pipeline round failed; retrying at the next poll")
