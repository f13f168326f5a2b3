"""GeoLife ``.plt`` trajectory files (Microsoft Research GeoLife GPS Trajectories, user guide 1.3).

Six header lines, then one point per line:
``latitude,longitude,0,altitude_ft,days_since_1899-12-30,date,time`` with date and time in GMT.
Altitude -777 means unknown; feet are converted to metres. The date and time fields give whole
seconds exactly; the fractional day count is used only when they are absent.
"""

from __future__ import annotations

import io
from datetime import datetime

from core.fixes import RawFix, Rejection
from ingest.formats.decoded import Decoded, DecodedBuilder, ItemError
from ingest.formats.params import number
from ingest.formats.times import from_epoch_s, from_iso
from ingest.formats.units import feet_to_m

HEADER_LINES = 6
FIRST_LINE = "Geolife trajectory"
UNKNOWN_ALTITUDE_FT = -777.0
# Day 0 of the OLE Automation / spreadsheet serial date (1899-12-30) is 25569 days before 1970-01-01.
_OLE_EPOCH_DAYS = 25569.0
_MIN_FIELDS = 5


def _time(fields: list[str]) -> datetime:
    if len(fields) >= 7 and fields[5].strip() and fields[6].strip():
        return from_iso(f"{fields[5].strip()}T{fields[6].strip()}", name="date/time", assume_utc=True)
    days = number(fields[4], name="days")
    if days is None:
        raise ItemError("missing date and time")
    return from_epoch_s((days - _OLE_EPOCH_DAYS) * 86400.0, name="days")


def _point(line: str) -> RawFix:
    fields = line.split(",")
    if len(fields) < _MIN_FIELDS:
        raise ItemError(f"expected at least {_MIN_FIELDS} comma-separated fields, got {len(fields)}")
    altitude_ft = number(fields[3], name="altitude")
    return RawFix(
        ts=_time(fields),
        lat=number(fields[0], name="latitude"),
        lon=number(fields[1], name="longitude"),
        altitude_m=None if altitude_ft == UNKNOWN_ALTITUDE_FT else feet_to_m(altitude_ft),
    )


def decode_plt(text: str) -> Decoded:
    """Decode a GeoLife trajectory; each malformed line is rejected with its line number."""
    out = DecodedBuilder()
    position = 0
    for number_, line in enumerate(io.StringIO(text), start=1):
        if number_ <= HEADER_LINES or not line.strip():
            continue
        try:
            out.add(position, _point(line.strip()))
        except ItemError as exc:
            out.add(position, Rejection(reason=f"line {number_}: {exc}"))
        position += 1
    return out.build()
