"""The pure privacy mechanisms: contribution bounding, suppression, noise calibration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.privacy.contribution import SectionRecord, TripRecord, contribution, sensitivity
from core.privacy.noise import add_noise, calibrated_scale
from core.privacy.params import ContributionCaps, ReleaseParams
from core.privacy.release import MODE_DOMAIN, compose, participants_bucket
from core.privacy.suppression import suppressed_cells
from core.privacy.zones import GridZones

MONDAY = datetime(2025, 3, 3, 7, tzinfo=UTC)


def trip(
    i: int, *, at: datetime = MONDAY, km: float = 5.0, mode: str = "car", co2_kg: float = 1.0
) -> TripRecord:
    return TripRecord(
        id=f"t{i}",
        started_at=at + timedelta(minutes=i),
        origin=(46.15, -1.15),
        destination=(46.16, -1.12),
        distance_m=km * 1000,
        sections=[SectionRecord(mode=mode, distance_m=km * 1000, co2_kg=co2_kg)],
    )


def no_zone(lat: float, lon: float) -> str | None:
    return None


def test_trips_per_day_are_capped() -> None:
    params = ReleaseParams(caps=ContributionCaps(max_trips_per_day=4))
    c = contribution([trip(i) for i in range(9)], params, zone_of=no_zone, seed=b"s")
    assert c.tables["mode_trips"][("car", "")] == 4


def test_distance_per_trip_is_clipped() -> None:
    params = ReleaseParams(caps=ContributionCaps(max_km_per_trip=40.0))
    c = contribution([trip(0, km=300.0)], params, zone_of=no_zone, seed=b"s")
    assert c.tables["mode_km"][("car", "")] == round(40.0 / params.km_unit)


def test_main_mode_is_the_longest_section() -> None:
    t = TripRecord(
        id="x",
        started_at=MONDAY,
        origin=(0, 0),
        destination=(0, 0),
        distance_m=6000,
        sections=[
            SectionRecord(mode="walk", distance_m=500, co2_kg=0),
            SectionRecord(mode="train", distance_m=5500, co2_kg=0.1),
        ],
    )
    c = contribution([t], ReleaseParams(), zone_of=no_zone, seed=b"s")
    assert set(c.tables["mode_trips"]) == {("train", "")}


def test_sensitivity_follows_the_caps() -> None:
    params = ReleaseParams(caps=ContributionCaps(max_trips_per_day=4))
    assert sensitivity("trips_by_hour", params, 7) == 28


def test_cells_under_k_are_suppressed() -> None:
    assert suppressed_cells({("a", ""): 12, ("b", ""): 9, ("c", ""): 3}, 10) == {("b", ""), ("c", "")}


def test_a_lone_suppressed_cell_takes_the_smallest_other_with_it() -> None:
    users = {("a", ""): 30, ("b", ""): 11, ("c", ""): 4}
    assert suppressed_cells(users, 10) == {("b", ""), ("c", "")}


def test_no_complementary_suppression_when_nothing_is_hidden() -> None:
    assert suppressed_cells({("a", ""): 30, ("b", ""): 11}, 10) == set()


def test_noise_scale_is_calibrated_by_opendp() -> None:
    # Laplace: scale = sensitivity / epsilon (OpenDP may round up very slightly).
    assert calibrated_scale(28, 0.5) == pytest.approx(56.0, rel=1e-6)


def test_noise_spends_no_more_than_allotted() -> None:
    out = add_noise([100, 200], sensitivity=10, epsilon=0.25)
    assert out.epsilon <= 0.25 + 1e-12
    assert len(out.values) == 2


def test_compose_splits_epsilon_over_the_tables() -> None:
    c = contribution([trip(0)], ReleaseParams(), zone_of=no_zone, seed=b"s")
    composed = compose([c] * 12, ReleaseParams(epsilon=1.2), n_days=7)
    assert sum(t.epsilon for t in composed.tables) == pytest.approx(1.2)


def test_participants_are_bucketed() -> None:
    assert (participants_bucket(7), participants_bucket(23), participants_bucket(20000)) == (
        "<10",
        "20-49",
        "10000+",
    )


def test_grid_cell_contains_its_points() -> None:
    grid = GridZones(1000.0)
    zid = grid.zone_of(46.1556, -1.152)
    assert zid is not None
    lat, lon = grid.zone(zid).centroid
    assert grid.zone_of(lat, lon) == zid


def test_a_release_counts_withheld_cells_only_where_the_cells_are_public() -> None:
    from core.privacy.contribution import TABLE_NOISY, Contribution
    from core.privacy.params import ReleaseParams
    from core.privacy.release import compose

    def tester(od: str) -> Contribution:
        tables: dict[str, dict[tuple[str, ...], int]] = {t: {} for t in TABLE_NOISY}
        tables["mode_trips"] = {("bike", ""): 2}
        tables["od_flows"] = {("z1", od): 2}
        return Contribution(tables=tables, trips_kept=2)

    crowd = [tester("z2") for _ in range(12)]
    params = ReleaseParams(epsilon=1.0, k=10)
    with_rare = compose([*crowd, tester("z9")], params, n_days=7)  # one tester's own pair
    without = compose(crowd, params, n_days=7)
    for composed in (with_rare, without):
        info = {t.table: t for t in composed.tables}
        assert info["od_flows"].suppressed is None  # the count would say one rare pair exists
        assert info["mode_trips"].suppressed == len(MODE_DOMAIN) - 1  # every mode but bike, public anyway
    assert [t.suppressed for t in with_rare.tables] == [t.suppressed for t in without.tables]


def test_a_tables_sensitivity_is_published_in_its_unit_with_its_noise_scale() -> None:
    from core.privacy.params import ReleaseParams
    from core.privacy.release import compose

    composed = compose([], ReleaseParams(epsilon=1.0, k=10), n_days=7)
    for t in composed.tables:
        assert t.noise_scale == pytest.approx(t.sensitivity / t.epsilon), t.table
