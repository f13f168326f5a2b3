"""Transport modes as inferred from traces, and the vehicle kinds a user's profile can name.

The inferred :class:`Mode` is what the data can tell apart (speed, stops, network proximity). The
kinds (:class:`CarEnergy`, :class:`BikeKind`, ...) are what it cannot: whether a car is electric or a
train is a TER comes from the user's profile or from the deployment's defaults.
"""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    """A section's transport mode, as inferred or as corrected by the user.

    Values match the classifier's labels (``models.classifier.MODES``) plus ferry and plane.
    """

    WALK = "walk"
    BIKE = "bike"
    E_BIKE = "ebike"
    BUS = "bus"
    TRAM = "tram"
    METRO = "metro"
    TRAIN = "train"
    CAR = "car"
    MOTORBIKE = "motorbike"
    FERRY = "ferry"
    PLANE = "plane"


class CarEnergy(StrEnum):
    THERMAL = "thermal"
    ELECTRIC = "electric"
    HYBRID = "hybrid"


class BikeKind(StrEnum):
    """What a ``bike`` section was ridden on; an e-scooter moves at bike speeds."""

    MUSCULAR = "muscular"
    ELECTRIC = "electric"
    E_SCOOTER = "e_scooter"


class MotorbikeKind(StrEnum):
    OVER_250CC = "over_250cc"
    UP_TO_250CC = "up_to_250cc"
    SCOOTER_THERMAL = "scooter_thermal"
    SCOOTER_ELECTRIC = "scooter_electric"


class BusKind(StrEnum):
    THERMAL = "thermal"
    CNG = "cng"
    ELECTRIC = "electric"
    COACH = "coach"


class TrainKind(StrEnum):
    TER = "ter"
    INTERCITES = "intercites"
    TGV = "tgv"
    RER = "rer"
