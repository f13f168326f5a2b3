from core.coaching import Place, Places, PlaceSource, resolved_purpose, trip_purpose
from core.coaching.purpose import Purpose
from tests.unit.coaching.builders import HOME, WORK, moved

SHOP = moved(HOME, north_m=1500)
PLACES = Places(
    home=Place(location=HOME, source=PlaceSource.CONFIRMED),
    work=Place(location=WORK, source=PlaceSource.GUESSED),
)


def test_home_to_work_and_back_are_commutes() -> None:
    assert trip_purpose(moved(HOME, east_m=80), WORK, PLACES) is Purpose.COMMUTE
    assert trip_purpose(WORK, HOME, PLACES) is Purpose.COMMUTE


def test_a_trip_to_or_from_work_from_elsewhere_is_work_related() -> None:
    assert trip_purpose(SHOP, WORK, PLACES) is Purpose.WORK
    assert trip_purpose(WORK, SHOP, PLACES) is Purpose.WORK


def test_coming_home_from_elsewhere_is_named_but_leaving_home_is_not() -> None:
    assert trip_purpose(SHOP, HOME, PLACES) is Purpose.HOME
    assert trip_purpose(HOME, SHOP, PLACES) is None


def test_without_places_nothing_is_named() -> None:
    assert trip_purpose(HOME, WORK, Places(home=None, work=None)) is None


def test_a_purpose_set_by_someone_else_is_kept() -> None:
    assert resolved_purpose("school", HOME, WORK, PLACES) == "school"


def test_a_derived_purpose_is_renamed_when_places_change() -> None:
    assert resolved_purpose("commute", SHOP, HOME, PLACES) == "home"
