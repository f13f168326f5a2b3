"""Reader for GeoLife GPS Trajectories 1.3, straight from the official zip or its unpacked folder.

GeoLife (Zheng et al., WWW 2008; UbiComp 2008; IEEE Data Eng. Bull. 2010) is distributed by
Microsoft Research for non-commercial research only: Sillage never ships it nor a model trained on
it, it only reads a copy the deployer downloaded. Layout::

    Geolife Trajectories 1.3/Data/<user>/labels.txt
    Geolife Trajectories 1.3/Data/<user>/Trajectory/<yyyymmddhhmmss>.plt

Other collections in the same format (another city's, re-exported copies) are read too: a user is
any folder holding ``Trajectory/*.plt``, label times may use dashes, label fields may be separated
by spaces, and malformed rows are skipped with a warning instead of failing the run.

``.plt`` files have six header lines then ``lat,lon,0,altitude_ft,days_since_1899-12-30,date,time``
(GMT). ``labels.txt`` holds tab-separated ``Start Time``, ``End Time``, ``Transportation Mode``
intervals; in many copies only some users kept their walk intervals, so time outside every
interval is *unlabelled*, never "walk".

The zip is read member by member (no full unpack). Parsed users can be cached as ``.npz`` in a
directory the caller chooses (keep it outside the repository: the cache is GeoLife-derived).
"""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from core.fixes import Activity
from core.track import ACTIVITY_CODES, Track

log = logging.getLogger(__name__)

# GeoLife's raw vocabulary -> Sillage modes (issue 4: taxi->car, subway->metro, run->walk).
MODE_MAP: dict[str, str] = {
    "walk": "walk",
    "run": "walk",
    "bike": "bike",
    "bus": "bus",
    "car": "car",
    "taxi": "car",
    "subway": "metro",
    "train": "train",
    "airplane": "plane",
    "boat": "ferry",
    "motorcycle": "motorbike",
}
# Words other collections in GeoLife's format use for the same modes (a Sillage mode's own name,
# say "tram" or "metro", is read as itself).
MODE_SYNONYMS: dict[str, str] = {
    "walking": "walk",
    "on foot": "walk",
    "foot": "walk",
    "running": "walk",
    "bicycle": "bike",
    "cycling": "bike",
    "e-bike": "ebike",
    "e_bike": "ebike",
    "driving": "car",
    "drive": "car",
    "underground": "metro",
    "rail": "train",
    "railway": "train",
    "tramway": "tram",
    "light rail": "tram",
    "plane": "plane",
    "flight": "plane",
    "ferry": "ferry",
    "motorbike": "motorbike",
}

# Modes with enough GeoLife labels to be scored; the others are reported apart.
SCORED_MODES: tuple[str, ...] = ("walk", "bike", "bus", "car", "train", "metro")

_EXCEL_EPOCH_DAYS = 25569.0  # 1970-01-01 in days since 1899-12-30
_DAY_S = 86400.0
_CACHE_FORMAT = 2  # 2: impossible coordinates left out


@dataclass(frozen=True, slots=True)
class LabelInterval:
    """One labelled interval of ``labels.txt``: ``[start_s, end_s]`` (Unix s, UTC) and its mode."""

    start_s: float
    end_s: float
    raw_mode: str

    @property
    def mode(self) -> str:
        """The Sillage mode (``MODE_MAP``, then ``MODE_SYNONYMS``), or the raw word when it has no
        mapping (a Sillage mode's own name, or a mode reported apart)."""
        return MODE_MAP.get(self.raw_mode) or MODE_SYNONYMS.get(self.raw_mode, self.raw_mode)


@dataclass(frozen=True, slots=True)
class GeolifeUser:
    """One user's fixes (all trajectories merged, time-sorted, duplicate times dropped) and labels."""

    user: str
    track: Track
    labels: tuple[LabelInterval, ...]


@dataclass(frozen=True, slots=True)
class LabelledSection:
    """Fixes ``[start, end)`` of a user's track that fall inside one labelled interval."""

    user: str
    start: int
    end: int
    mode: str
    interval: LabelInterval


_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def _parse_time(text: str) -> float:
    """A label time (GMT): GeoLife's ``2008/10/23 01:00:00``, or the same with dashes or a ``T``."""
    cleaned = text.strip()
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    raise ValueError(f"not a label time: {text!r}")


def _label_fields(line: str) -> tuple[str, str, str] | None:
    """Start, end and mode of a label line: tab-separated as in GeoLife, or whitespace-separated
    (``date time date time mode``) as some re-exported copies are."""
    parts = line.strip().split("\t")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    tokens = line.split()
    if len(tokens) == 5:
        return f"{tokens[0]} {tokens[1]}", f"{tokens[2]} {tokens[3]}", tokens[4]
    return None


def parse_labels(text: str) -> tuple[LabelInterval, ...]:
    """Parse a ``labels.txt`` body. A first line that is not a label is the header; any other
    malformed line is skipped with a warning, as is an interval that ends before it starts."""
    out: list[LabelInterval] = []
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines()):
        if not raw.strip():
            continue
        fields = _label_fields(raw)
        try:
            if fields is None:
                raise ValueError("not three fields")
            start, end = _parse_time(fields[0]), _parse_time(fields[1])
        except ValueError:
            if number > 0:
                log.warning("geolife: skipping malformed label line %r", raw)
            continue
        if end >= start:
            out.append(LabelInterval(start_s=start, end_s=end, raw_mode=fields[2].strip().lower()))
        else:
            log.warning("geolife: skipping label line that ends before it starts %r", raw)
    return tuple(sorted(out, key=lambda iv: iv.start_s))


def parse_plt(
    data: bytes,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Parse one ``.plt`` body into ``(t_s, lat, lon)``; times are rounded to the second.

    Rows that do not parse, and positions outside the globe (GeoLife has a few latitudes of 400),
    are left out with a warning rather than failing the whole file."""
    try:
        arr = np.loadtxt(io.BytesIO(data), delimiter=",", skiprows=6, usecols=(0, 1, 4), ndmin=2)
    except ValueError:
        arr = _parse_plt_rows(data)
    if arr.shape[0] == 0:
        empty = np.empty(0, dtype=np.float64)
        return empty, empty, empty
    ok = np.isfinite(arr).all(axis=1) & (np.abs(arr[:, 0]) <= 90.0) & (np.abs(arr[:, 1]) <= 180.0)
    if not ok.all():
        log.warning("geolife: skipping %d fixes with impossible coordinates or times", int((~ok).sum()))
        arr = arr[ok]
    t_s = np.round((arr[:, 2] - _EXCEL_EPOCH_DAYS) * _DAY_S)
    return t_s, arr[:, 0], arr[:, 1]


def _parse_plt_rows(data: bytes) -> npt.NDArray[np.float64]:
    """Row by row, for a file ``np.loadtxt`` refused: malformed rows are counted and skipped."""
    rows: list[tuple[float, float, float]] = []
    bad = 0
    for line in data.decode("utf-8", "replace").splitlines()[6:]:
        fields = line.split(",")
        if not line.strip():
            continue
        try:
            rows.append((float(fields[0]), float(fields[1]), float(fields[4])))
        except (ValueError, IndexError):
            bad += 1
    if bad:
        log.warning("geolife: skipping %d malformed .plt rows", bad)
    return np.asarray(rows, dtype=np.float64).reshape(-1, 3)


def _track_from_parts(parts: list[tuple[npt.NDArray[np.float64], ...]]) -> Track:
    if parts:
        t_s = np.concatenate([p[0] for p in parts])
        lat = np.concatenate([p[1] for p in parts])
        lon = np.concatenate([p[2] for p in parts])
    else:
        t_s = lat = lon = np.empty(0, dtype=np.float64)
    order = np.argsort(t_s, kind="stable")
    t_s, lat, lon = t_s[order], lat[order], lon[order]
    keep = np.ones(t_s.shape[0], dtype=bool)
    keep[1:] = np.diff(t_s) > 0  # overlapping files repeat fixes: keep the first of each second
    n = int(keep.sum())
    return Track(
        t_s=t_s[keep],
        lat=lat[keep],
        lon=lon[keep],
        accuracy_m=np.full(n, np.nan),
        speed_mps=np.full(n, np.nan),
        activity=np.full(n, ACTIVITY_CODES[Activity.UNKNOWN], dtype=np.int8),
    )


class _Source:
    """Uniform access to the zip or the folder: ``{user: (labels member, [plt members])}``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip = zipfile.ZipFile(path) if path.is_file() else None
        names = (
            self._zip.namelist()
            if self._zip is not None
            else [p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()]
        )
        # A user is a folder holding ``Trajectory/*.plt`` and optionally ``labels.txt``, wherever
        # it sits (``Data/<user>`` in the official layout); its name is the folder's.
        by_dir: dict[str, tuple[str | None, list[str]]] = {}
        for name in names:
            parts = name.split("/")
            if "__MACOSX" in parts or parts[-1].startswith("._"):
                continue  # resource forks of archives made on a Mac
            if len(parts) >= 3 and parts[-2] == "Trajectory" and parts[-1].lower().endswith(".plt"):
                labels, plts = by_dir.get("/".join(parts[:-2]), (None, []))
                by_dir["/".join(parts[:-2])] = (labels, [*plts, name])
            elif len(parts) >= 2 and parts[-1] == "labels.txt":
                labels, plts = by_dir.get("/".join(parts[:-1]), (None, []))
                by_dir["/".join(parts[:-1])] = (name, plts)
        by_dir = {folder: members for folder, members in by_dir.items() if members[1]}
        short = Counter(folder.rsplit("/", 1)[-1] for folder in by_dir)
        self.users: dict[str, tuple[str | None, list[str]]] = {}
        for folder, members in by_dir.items():
            name = folder.rsplit("/", 1)[-1]
            self.users[name if name and short[name] == 1 else folder.replace("/", "_")] = members

    def read(self, member: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(member)
        return (self.path / member).read_bytes()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _cache_key(path: Path) -> str:
    stat = path.stat()
    raw = f"{_CACHE_FORMAT}|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _load_cached(file: Path) -> GeolifeUser | None:
    if not file.exists():
        return None
    with np.load(file, allow_pickle=False) as z:
        track = _track_from_parts([(z["t_s"], z["lat"], z["lon"])])
        labels = tuple(
            LabelInterval(start_s=float(s), end_s=float(e), raw_mode=str(m))
            for s, e, m in zip(z["label_start"], z["label_end"], z["label_mode"], strict=True)
        )
        return GeolifeUser(user=str(z["user"]), track=track, labels=labels)


def _save_cached(file: Path, user: GeolifeUser) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        user=np.array(user.user),
        t_s=user.track.t_s,
        lat=user.track.lat,
        lon=user.track.lon,
        label_start=np.array([iv.start_s for iv in user.labels], dtype=np.float64),
        label_end=np.array([iv.end_s for iv in user.labels], dtype=np.float64),
        label_mode=np.array([iv.raw_mode for iv in user.labels], dtype=np.str_),
    )
    tmp.replace(file)


def read_geolife(
    path: Path,
    *,
    users: Collection[str] | None = None,
    labelled_only: bool = True,
    cache_dir: Path | None = None,
    every_s: float | None = None,
) -> Iterator[GeolifeUser]:
    """Yield each GeoLife user (sorted by id) from the official zip or unpacked folder.

    ``labelled_only`` skips users without ``labels.txt``. ``cache_dir``, when given, stores each
    parsed user as ``.npz`` keyed by the source's path, size and mtime (put it under ``/tmp``: the
    cache is GeoLife-derived and must not enter the repository). ``every_s`` keeps only the first
    fix of each bucket of that many seconds (:func:`thinned`).
    """
    for user in _read_geolife(path, users=users, labelled_only=labelled_only, cache_dir=cache_dir):
        yield user if every_s is None else thinned(user, every_s)


def thinned(user: GeolifeUser, every_s: float) -> GeolifeUser:
    """``user`` as a phone tracker sampling more sparsely would have logged them: the first fix of
    each ``every_s``-second bucket (GeoLife's loggers sampled every 1-5 s; e-mission on Android
    every 30 s, GPSLogger every 60 s by default). Labels are unchanged."""
    if every_s <= 0:
        raise ValueError(f"every_s must be positive, not {every_s}")
    bucket = np.floor(user.track.t_s / every_s)
    first = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    return GeolifeUser(user=user.user, track=user.track.take(first), labels=user.labels)


def _read_geolife(
    path: Path, *, users: Collection[str] | None, labelled_only: bool, cache_dir: Path | None
) -> Iterator[GeolifeUser]:
    source = _Source(path)
    key = _cache_key(path) if cache_dir is not None else ""
    try:
        for user in sorted(source.users):
            if users is not None and user not in users:
                continue
            labels_member, plts = source.users[user]
            if labelled_only and labels_member is None:
                continue
            cached_file = cache_dir / key / f"{user}.npz" if cache_dir is not None else None
            if cached_file is not None:
                cached = _load_cached(cached_file)
                if cached is not None:
                    yield cached
                    continue
            labels = (
                parse_labels(source.read(labels_member).decode("utf-8", "replace")) if labels_member else ()
            )
            parts = [parse_plt(source.read(m)) for m in sorted(plts)]
            result = GeolifeUser(user=user, track=_track_from_parts(list(parts)), labels=labels)
            if cached_file is not None:
                _save_cached(cached_file, result)
            yield result
    finally:
        source.close()


def labelled_sections(user: GeolifeUser) -> list[LabelledSection]:
    """Cut the user's track at each labelled interval; intervals with no fix are left out."""
    out: list[LabelledSection] = []
    t = user.track.t_s
    for iv in user.labels:
        start = int(np.searchsorted(t, iv.start_s, side="left"))
        end = int(np.searchsorted(t, iv.end_s, side="right"))
        if end > start:
            out.append(LabelledSection(user=user.user, start=start, end=end, mode=iv.mode, interval=iv))
    return out
