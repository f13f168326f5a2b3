"""Simulated tracks as upload files: CSV (``ts,lat,lon,accuracy_m,speed_mps,mode``) or GPX 1.1.

Pure formatting to strings; the CLI writes them. Missing optional values are empty CSV cells and
absent GPX elements. The CSV ``mode`` column carries the true label (``stay`` or a mode) so the
file doubles as ground truth.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from core.simulate.days import SimulatedTrack

CSV_HEADER = "ts,lat,lon,accuracy_m,speed_mps,mode"


def _iso(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, tz=UTC).isoformat().replace("+00:00", "Z")


def _num(value: float, digits: int) -> str:
    return "" if not math.isfinite(value) else f"{value:.{digits}f}"


def to_csv(sim: SimulatedTrack) -> str:
    """CSV with a header line, one fix per line, times in ISO 8601 UTC."""
    tr = sim.track
    lines = [CSV_HEADER]
    lines.extend(
        f"{_iso(float(tr.t_s[i]))},{tr.lat[i]:.7f},{tr.lon[i]:.7f},"
        f"{_num(float(tr.accuracy_m[i]), 1)},{_num(float(tr.speed_mps[i]), 2)},{sim.labels[i]}"
        for i in range(len(tr))
    )
    return "\n".join(lines) + "\n"


def to_gpx(sim: SimulatedTrack, *, name: str = "sillage simulation") -> str:
    """GPX 1.1 with one track segment: position and ``time`` only (GPX 1.1 has no speed or accuracy
    element; vendor extensions are left out so every reader accepts the file)."""
    tr = sim.track
    points = "\n".join(
        f'      <trkpt lat="{tr.lat[i]:.7f}" lon="{tr.lon[i]:.7f}">'
        f"<time>{_iso(float(tr.t_s[i]))}</time></trkpt>"
        for i in range(len(tr))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="sillage simulate" xmlns="http://www.topografix.com/GPX/1/1">\n'
        f"  <trk>\n    <name>{escape(name)}</name>\n    <trkseg>\n{points}\n    </trkseg>\n  </trk>\n</gpx>\n"
    )
