"""Writing small GTFS feeds for tests: a folder of the text files, or a zip of them."""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Line:
    """A route of ``route_type`` calling at ``stops`` (stop ids), with one trip."""

    route_id: str
    route_type: int
    stops: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Stop:
    stop_id: str
    lat: float
    lon: float
    location_type: str = ""
    parent_station: str = ""


@dataclass(slots=True)
class FeedFiles:
    """The rows of each file; tests may break any of them before writing."""

    files: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    @staticmethod
    def of(stops: Sequence[Stop], lines: Sequence[Line]) -> FeedFiles:
        return FeedFiles(
            {
                "stops.txt": [
                    {
                        "stop_id": s.stop_id,
                        "stop_name": s.stop_id.title(),
                        "stop_lat": f"{s.lat:.7f}",
                        "stop_lon": f"{s.lon:.7f}",
                        "location_type": s.location_type,
                        "parent_station": s.parent_station,
                    }
                    for s in stops
                ],
                "routes.txt": [
                    {
                        "route_id": ln.route_id,
                        "route_short_name": ln.route_id,
                        "route_type": str(ln.route_type),
                    }
                    for ln in lines
                ],
                "trips.txt": [
                    {"route_id": ln.route_id, "service_id": "all", "trip_id": f"{ln.route_id}-1"}
                    for ln in lines
                ],
                "stop_times.txt": [
                    {
                        "trip_id": f"{ln.route_id}-1",
                        "arrival_time": f"08:{k:02d}:00",
                        "departure_time": f"08:{k:02d}:00",
                        "stop_id": stop,
                        "stop_sequence": str(k),
                    }
                    for ln in lines
                    for k, stop in enumerate(ln.stops)
                ],
            }
        )

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, rows in self.files.items():
            with (folder / name).open("w", newline="", encoding="utf-8") as f:
                columns = list(dict.fromkeys(k for row in rows for k in row)) or ["empty"]
                writer = csv.DictWriter(f, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)
        return folder

    def zip(self, path: Path, *, inside: str = "") -> Path:
        folder = self.write(path.with_suffix(".d"))
        with zipfile.ZipFile(path, "w") as z:
            for name in self.files:
                z.write(folder / name, f"{inside}{name}")
        return path
