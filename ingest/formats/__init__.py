"""Pure decoders for every accepted GPS payload format: bytes or parameters in, :class:`Decoded` out.

No I/O and no database: the HTTP endpoints call these, then ``core.fixes.normalise`` validates each
item. Units, field mappings and references for each format are in ``FORMATS.md`` next to this file.
"""

from __future__ import annotations

from ingest.formats.decoded import Decoded
from ingest.formats.emission import EmissionParams, decode_emission
from ingest.formats.gpslogger import decode_gpslogger
from ingest.formats.native import decode_native
from ingest.formats.osmand import decode_osmand
from ingest.formats.overland import decode_overland
from ingest.formats.owntracks import decode_owntracks
from ingest.formats.upload import UploadFormat, decode_upload, sniff

__all__ = [
    "Decoded",
    "EmissionParams",
    "UploadFormat",
    "decode_emission",
    "decode_gpslogger",
    "decode_native",
    "decode_osmand",
    "decode_overland",
    "decode_owntracks",
    "decode_upload",
    "sniff",
]
