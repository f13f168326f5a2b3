"""A user's vehicle profile and a deployment's defaults: what traces cannot tell apart.

"My car is electric", "I carpool with 2", "my bike is electric": the profile overrides the
deployment's defaults, which stand in until the data can distinguish bus and train kinds.

La Rochelle's default bus is thermal. The Yélo fleet (operated by the RTCR) counted 157 buses in
January 2021, of which 6 on bio-CNG, 4 hybrid and 3 electric (flotauto.com, 14 January 2021,
"flotte bus agglo La Rochelle"); 11 electric buses entered service in January 2024 and the whole
fleet is planned to be electric only within 6-7 years (Hélène FM, December 2023). Most
passenger-km are therefore still driven by diesel buses; change the default as the fleet turns over.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.co2.modes import BikeKind, BusKind, CarEnergy, MotorbikeKind, TrainKind

Occupants = Annotated[int, msgspec.Meta(ge=1, le=9)]
Metres = Annotated[float, msgspec.Meta(ge=0)]


class VehicleProfile(msgspec.Struct, frozen=True, kw_only=True):
    """The user's own vehicles; ``None`` kinds fall back to the deployment's defaults.

    ``car_occupants`` counts everyone in the car, driver included: 1 is driving alone, 3 is
    "I carpool with 2".
    """

    car_energy: CarEnergy = CarEnergy.THERMAL
    car_occupants: Occupants = 1
    bike_kind: BikeKind = BikeKind.MUSCULAR
    motorbike_kind: MotorbikeKind = MotorbikeKind.UP_TO_250CC
    bus_kind: BusKind | None = None
    train_kind: TrainKind | None = None


class TrainDistanceParams(msgspec.Struct, frozen=True, kw_only=True):
    """Distance heuristic for the train kind when neither the profile nor the deployment says.

    Bands follow Impact CO2's own display ranges (TER shown up to 150 km, TGV from 150 km) and,
    between them, the Intercités lines that serve cities such as La Rochelle (Nantes-Bordeaux,
    about 170-190 km from La Rochelle): up to ``ter_max_m`` a regional train, up to
    ``intercites_max_m`` an Intercités, beyond a TGV.
    """

    ter_max_m: Metres = 150_000.0
    intercites_max_m: Metres = 300_000.0


class Deployment(msgspec.Struct, frozen=True, kw_only=True):
    """A city's defaults: its bus fleet, and the kind of its short-distance trains."""

    name: str
    bus_kind: BusKind
    short_train_kind: TrainKind = TrainKind.TER
    train_distance: TrainDistanceParams = TrainDistanceParams()


LA_ROCHELLE = Deployment(name="La Rochelle", bus_kind=BusKind.THERMAL, short_train_kind=TrainKind.TER)
