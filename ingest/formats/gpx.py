"""GPX 1.0 and 1.1 files: every ``trkpt`` and ``rtept`` becomes a fix; ``wpt`` are skipped.

Per point: ``lat``/``lon`` attributes (degrees), ``<ele>`` (metres), ``<time>`` (ISO 8601, UTC by
the GPX schema, so a time without offset is read as UTC), and ``<speed>`` (m/s) / ``<course>``
(degrees) either as GPX 1.0 children or as GPX 1.1 extension elements (Garmin TrackPointExtension
v2, OsmAnd), matched by local name whatever their namespace. ``<hdop>`` is a dilution of precision,
not metres, and is not read as accuracy. Reference: https://www.topografix.com/GPX/1/1/.

Parsing is streaming and linear: each point is read when it closes and then detached from its
parent, so a year-long file is never held as a tree. The XML parser is ``defusedxml``'s, which
refuses entity expansion and external references (billion laughs, XXE) from untrusted uploads.
"""

from __future__ import annotations

import io
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from core.errors import BadRequest, Unprocessable
from core.fixes import RawFix, Rejection
from ingest.formats.decoded import ACCEPTED_UPLOADS, Decoded, DecodedBuilder, ItemError
from ingest.formats.params import number
from ingest.formats.times import from_iso

POINT_TAGS = frozenset({"trkpt", "rtept"})
SKIPPED_TAGS = frozenset({"wpt"})
_READ = frozenset({"ele", "time", "speed", "course"})


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _point(element: Element) -> RawFix:
    values: dict[str, str] = {}
    for child in element.iter():
        name = _local(child.tag)
        if name in _READ and name not in values and child.text is not None:
            values[name] = child.text
    time = values.get("time")
    return RawFix(
        ts=None if time is None else from_iso(time, name="time", assume_utc=True),
        lat=number(element.get("lat"), name="lat"),
        lon=number(element.get("lon"), name="lon"),
        altitude_m=number(values.get("ele"), name="ele"),
        speed_mps=number(values.get("speed"), name="speed"),
        bearing_deg=number(values.get("course"), name="course"),
    )


def decode_gpx(body: bytes) -> Decoded:
    """Decode a GPX document; malformed XML is :class:`BadRequest` with its line and column."""
    out = DecodedBuilder()
    stack: list[Element] = []
    position = 0
    try:
        for event, element in iterparse(io.BytesIO(body), events=("start", "end")):
            if event == "start":
                if not stack and _local(element.tag) != "gpx":
                    raise Unprocessable(
                        f"the XML root element is <{_local(element.tag)}>, not <gpx>; "
                        f"accepted uploads: {ACCEPTED_UPLOADS}"
                    )
                stack.append(element)
                continue
            stack.pop()
            name = _local(element.tag)
            if name in POINT_TAGS:
                try:
                    out.add(position, _point(element))
                except ItemError as exc:
                    out.add(position, Rejection(reason=str(exc)))
            elif name in SKIPPED_TAGS:
                out.skip()
            else:
                continue
            position += 1
            if stack:
                stack[-1].remove(element)  # the last child: O(1), keeps memory flat
    except ParseError as exc:
        line, column = exc.position[0], exc.position[1] + 1  # expat counts columns from 0
        raise BadRequest(f"malformed XML at line {line}, column {column}", line=line, column=column) from exc
    except LookupError as exc:  # <?xml encoding="..."?> names a codec Python does not have
        raise BadRequest(f"XML declares an unknown encoding: {exc}") from exc
    except DefusedXmlException as exc:
        raise BadRequest(f"XML entity declarations and external references are refused: {exc}") from exc
    return out.build()
