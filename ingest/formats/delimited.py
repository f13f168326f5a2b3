"""CSV uploads: a header row, then one fix per row.

Columns are found by common names (case, spaces and dashes ignored): time ``time``, ``timestamp``,
``ts``, ``datetime``, ``date_time``, ``time_utc``, ``utc``, ``timestamp_ms`` (plus a separate ``date``
column when ``time`` holds only a clock time); ``lat``/``latitude``; ``lon``/``lng``/``long``/
``longitude``; optional ``accuracy``/``acc`` (m), ``altitude``/``alt``/``ele``/``elevation`` (m),
``speed`` (m/s) or ``speed_kmh``/``speed_kph``, ``bearing``/``course``/``heading``/``dir``
(degrees), ``battery``/``batt`` (0..1, or percent when above 1), ``activity``. ``hdop`` is a
dilution of precision, not metres, and is not read as accuracy.

Times are epoch seconds or milliseconds, or ISO 8601 with an offset; a time without offset is
rejected unless its column says UTC (``time_utc``, ``utc``, ``gmt``). The delimiter is the most
frequent of ``,`` ``;`` tab ``|`` in the header; with ``;`` or tab a decimal comma is accepted
(French spreadsheets). Reading is one pass with the :mod:`csv` module.
"""

from __future__ import annotations

import csv
import io
import re

from core.errors import BadRequest, Unprocessable
from core.fixes import RawFix, Rejection
from ingest.formats.activity import from_name
from ingest.formats.decoded import ACCEPTED_UPLOADS, Decoded, DecodedBuilder, ItemError
from ingest.formats.params import number
from ingest.formats.times import from_text
from ingest.formats.units import kmh_to_mps, percent_to_fraction

COLUMNS: dict[str, tuple[str, ...]] = {
    "time": ("time", "timestamp", "ts", "datetime", "date_time", "time_utc", "utc", "timestamp_ms"),
    "date": ("date",),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "long", "longitude"),
    "accuracy": ("accuracy", "accuracy_m", "acc", "horizontal_accuracy"),
    "altitude": ("altitude", "altitude_m", "alt", "ele", "elevation"),
    "speed": ("speed", "speed_mps", "speed_ms"),
    "speed_kmh": ("speed_kmh", "speed_kph"),
    "bearing": ("bearing", "bearing_deg", "course", "heading", "dir", "direction"),
    "battery": ("battery", "batt", "battery_level"),
    "activity": ("activity",),
}
DELIMITERS = (",", ";", "\t", "|")
_CLOCK_ONLY = re.compile(r"\d{1,2}:\d{2}")


def _normal(name: str) -> str:
    return name.strip().strip('"').lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")


def header_delimiter(first_line: str) -> str:
    return max(DELIMITERS, key=first_line.count)


def _column_index(header: list[str]) -> dict[str, tuple[int, str]]:
    """For each known column, its index and header name, the first alias found winning."""
    names = [_normal(cell) for cell in header]
    found: dict[str, tuple[int, str]] = {}
    for column, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in names:
                found[column] = (names.index(alias), alias)
                break
    return found


def first_line(text: str) -> str:
    end = text.find("\n")
    return text if end < 0 else text[:end]


def looks_like_csv(text: str) -> bool:
    """A header row naming a latitude and a longitude column."""
    line = first_line(text).rstrip("\r")
    try:
        header = next(csv.reader([line], delimiter=header_delimiter(line)), [])
    except csv.Error:
        return False
    columns = _column_index(header)
    return "lat" in columns and "lon" in columns


class _Row:
    __slots__ = ("_cells", "_columns", "_decimal_comma")

    def __init__(self, cells: list[str], columns: dict[str, tuple[int, str]], decimal_comma: bool) -> None:
        self._cells = cells
        self._columns = columns
        self._decimal_comma = decimal_comma

    def text(self, column: str) -> str | None:
        where = self._columns.get(column)
        if where is None or where[0] >= len(self._cells):
            return None
        value = self._cells[where[0]].strip()
        return value or None

    def number(self, column: str) -> float | None:
        where = self._columns.get(column)
        name = column if where is None else where[1]
        return number(self.text(column), name=name, decimal_comma=self._decimal_comma)


def _row_fix(row: _Row, time_name: str) -> RawFix:
    stamp = row.text("time")
    date = row.text("date")
    if stamp is not None and date is not None and _CLOCK_ONLY.match(stamp) and ":" not in date:
        stamp = f"{date}T{stamp}"
    utc = any(word in time_name for word in ("utc", "gmt"))
    speed = row.number("speed")
    battery = row.number("battery")
    activity = row.text("activity")
    return RawFix(
        ts=None if stamp is None else from_text(stamp, name=time_name, assume_utc=utc),
        lat=row.number("lat"),
        lon=row.number("lon"),
        accuracy_m=row.number("accuracy"),
        altitude_m=row.number("altitude"),
        speed_mps=speed if speed is not None else kmh_to_mps(row.number("speed_kmh")),
        bearing_deg=row.number("bearing"),
        activity=None if activity is None else from_name(activity),
        battery=percent_to_fraction(battery) if battery is not None and battery > 1 else battery,
    )


def decode_csv(text: str) -> Decoded:
    """Decode CSV text; a header without time, latitude and longitude columns is Unprocessable."""
    delimiter = header_delimiter(first_line(text))
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    out = DecodedBuilder()
    try:
        header = next(reader, [])
        columns = _column_index(header)
        missing = [column for column in ("time", "lat", "lon") if column not in columns]
        if missing:
            raise Unprocessable(
                f"CSV header {[cell.strip() for cell in header][:20]} has no {', '.join(missing)} column; "
                f"recognised names: {', '.join(COLUMNS['time'] + COLUMNS['lat'] + COLUMNS['lon'])}; "
                f"accepted uploads: {ACCEPTED_UPLOADS}"
            )
        time_name = columns["time"][1]
        decimal_comma = delimiter != ","
        position = 0
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            try:
                out.add(position, _row_fix(_Row(cells, columns, decimal_comma), time_name))
            except ItemError as exc:
                out.add(position, Rejection(reason=f"line {reader.line_num}: {exc}"))
            position += 1
    except csv.Error as exc:
        raise BadRequest(f"malformed CSV at line {reader.line_num}: {exc}", line=reader.line_num) from exc
    return out.build()
