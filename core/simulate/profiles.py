"""Per-mode kinematic profiles of the simulator, calibrated against published figures.

Each :class:`ModeProfile` holds distributions (mean and spread) for one mode; a simulated leg draws
its own cruise speed, so two legs of one mode differ as two riders or two lines do.

Sources of the calibration (speeds are *cruise* speeds between stops unless "commercial"):

- walk: comfortable gait 1.27-1.46 m/s for adults (Bohannon 1997, Age and Ageing 26:15-19);
  pedestrians wait at crossings (signal cycles 60-90 s in French towns, CEREMA guidance).
- bike: urban cycling 15-18 km/h, about 4-5 m/s (German Naturalistic Cycling Study, Schleinitz
  et al. 2017, Safety Science 92: conventional bicycles 15.3 km/h on average); e-bike (pedelec)
  17.4 km/h in the same study, assistance cut at 25 km/h by EU rule (EN 15194).
- bus: commercial speed 15-20 km/h in French cities (CEREMA, "Vitesse commerciale des bus"),
  stops every 300-500 m with 15-30 s dwell, accelerations about 1 m/s² for standing passengers'
  comfort (UITP guidance 1.0-1.5 m/s²).
- tram: commercial 18-20 km/h, interstation ~500 m, top speed 50-70 km/h (CEREMA/STRMTG French
  tramway figures); partial signal priority, so fewer red lights than buses.
- metro: commercial 25-40 km/h (RATP lines ~25 km/h; newer and longer-spaced lines ~35-40 km/h).
  Between stations trains run at line speed, not at the commercial speed: rolling stock is run
  at 80 km/h on most lines (Paris MP 89, Beijing lines 1, 2, 13) and 90-100 km/h on newer or
  suburban lines, so cruise 16 ± 3 m/s capped at 25 m/s (13.5 m/s before made real metro top
  speeds look like a car's). Stations 1.0 ± 0.4 km apart: network averages run from ~0.55 km
  (Paris) to ~1.5-1.9 km (London, Beijing, Shanghai). A ride often changes line underground,
  where the walk between platforms has no fix, so one observed metro section can turn: a
  right-angle bend every ~6 km on average. Underground: GPS is lost between stations.
- train: regional TER commercial speed 60-90 km/h, top 140-160 km/h, stations every 5-15 km,
  accelerations 0.4-0.6 m/s² (SNCF Réseau, TER rolling stock data sheets).
- car: urban arterial cruise 30-50 km/h with traffic lights every 200-400 m, suburban and
  expressway legs 70-110 km/h; comfortable acceleration ~2 m/s² (Bokare & Maurya 2017,
  Transportation Research Procedia 25: passenger car acceleration 1-3 m/s²).
- motorbike: like the car but quicker to accelerate (~3 m/s²) and filtering through queues, so
  shorter and fewer stops.

Spreads are deliberately wide (domain randomisation: Tobin et al. 2017, IROS, train on a
simulator whose parameters vary more than reality so that real data falls inside): the shipped
model is trained on this simulator alone and must serve cities other than the one a figure comes
from. Version 1.1 widened them after comparing per-mode *aggregate* feature medians (never
trajectories) with the GeoLife development subset (Beijing, 2007-2012): bikes 4.0 ± 1.1 m/s
(Beijing's ~12 km/h down to 11 km/h and the German study's 15-18 km/h both inside), buses'
stops 450 ± 180 m apart on straighter routes, cars 13 ± 6 m/s with legs up to 50 km and fewer
turns (ring roads and expressways), regional trains 24 ± 9 m/s cruise (commercial speed stays in
the TER range the tests check), walks 1.35 ± 0.25 m/s.

Tried and not adopted (each measured over five simulator seeds, paired, on GeoLife users never
seen): congestion for cars alone (reds up to 90 s at fewer lights, stop-and-go queues of 30-300 s
at up to 0.1 per km, matching GeoLife cars' aggregate speed and stopped share) lowered section
macro-F1 by 0.024 ± 0.014 and end-to-end by 0.019 ± 0.011 on every seed: real buses and metros
also stand still for long and cross gaps slowly, so long waits taught to cars alone read as a car
sign (bus→car and metro→car errors rose by 145 and 90 sections). Long waits for every road and
rail mode together (the same queues for buses, half for trams, long dwells at 1 stop in 10, signal
holds of 30-120 s between metro and train stations) undid most of that per section (−0.003 ±
0.013) but still lowered end-to-end macro-F1 on every seed (−0.018 ± 0.011): congested cars then
read as metros. Stop-and-go bikes (2026-12-02, six seeds, mode model alone): each bike or e-bike
leg drawing its streets' density (lights and turns closer or farther apart by a factor up to
e^1.1 either way), lights every 250 m with a stop at half of them and shorter reds (up to 35 s):
GeoLife bikes stand at more crossings than the simulator's, and bike→bus was the largest error
once per labelled interval (189 of 1,382 bike intervals). Per section macro-F1 rose on five
seeds of six (+0.020 ± 0.024, bike F1 +0.019), but end to end it did not move (+0.003 ± 0.018,
three seeds of six; bus F1 −0.005), nor once per labelled interval (+0.009 ± 0.019): no new
artifact for a gain testers would not see.
"""

from __future__ import annotations

import msgspec

MODES: tuple[str, ...] = ("walk", "bike", "ebike", "bus", "tram", "metro", "train", "car", "motorbike")


class ModeProfile(msgspec.Struct, frozen=True, kw_only=True):
    """Kinematics of one mode. Distances in metres, speeds in m/s, times in s, accelerations m/s²."""

    cruise_speed_mps: float  # mean of the legs' cruise speed
    cruise_speed_sd_mps: float  # spread between legs (riders, lines, traffic)
    speed_fluctuation_sd_mps: float  # within-leg Ornstein-Uhlenbeck noise on the target speed
    max_speed_mps: float
    accel_mps2: float
    decel_mps2: float
    stop_spacing_m: float  # mean distance between scheduled stops (0: none)
    stop_spacing_sd_m: float
    stop_dwell_s: float  # mean dwell at a scheduled stop
    stop_skip_prob: float  # chance a scheduled stop is passed without stopping (request stops)
    light_spacing_m: float  # mean distance between traffic lights or crossings (0: none)
    light_stop_prob: float  # chance of stopping at one
    light_wait_max_s: float  # red phase remaining is uniform in [5, this]
    turn_spacing_m: float  # mean distance between street turns (0: none)
    wander_deg_per_sqrt_m: float  # heading diffusion: curvature of the way
    leg_distance_m: tuple[float, float]  # log-uniform range of a leg's length
    underground_prob: float = 0.0  # chance a leg runs in tunnels (no GPS between stations)
    vehicle_accuracy_factor: float = 1.0  # GPS inside a vehicle is worse (roof, Faraday cage)


PROFILES: dict[str, ModeProfile] = {
    "walk": ModeProfile(
        cruise_speed_mps=1.35,
        cruise_speed_sd_mps=0.25,
        speed_fluctuation_sd_mps=0.2,
        max_speed_mps=2.6,
        accel_mps2=0.7,
        decel_mps2=1.0,
        stop_spacing_m=0.0,
        stop_spacing_sd_m=0.0,
        stop_dwell_s=0.0,
        stop_skip_prob=0.0,
        light_spacing_m=150.0,
        light_stop_prob=0.35,
        light_wait_max_s=50.0,
        turn_spacing_m=150.0,
        wander_deg_per_sqrt_m=2.5,
        leg_distance_m=(80.0, 3000.0),
    ),
    "bike": ModeProfile(
        cruise_speed_mps=4.0,
        cruise_speed_sd_mps=1.1,
        speed_fluctuation_sd_mps=0.5,
        max_speed_mps=9.0,
        accel_mps2=0.8,
        decel_mps2=1.5,
        stop_spacing_m=0.0,
        stop_spacing_sd_m=0.0,
        stop_dwell_s=0.0,
        stop_skip_prob=0.0,
        light_spacing_m=300.0,
        light_stop_prob=0.4,
        light_wait_max_s=50.0,
        turn_spacing_m=400.0,
        wander_deg_per_sqrt_m=2.0,
        leg_distance_m=(700.0, 15000.0),
    ),
    "ebike": ModeProfile(
        cruise_speed_mps=5.6,
        cruise_speed_sd_mps=0.6,
        speed_fluctuation_sd_mps=0.4,
        max_speed_mps=7.2,
        accel_mps2=1.2,
        decel_mps2=1.5,
        stop_spacing_m=0.0,
        stop_spacing_sd_m=0.0,
        stop_dwell_s=0.0,
        stop_skip_prob=0.0,
        light_spacing_m=300.0,
        light_stop_prob=0.4,
        light_wait_max_s=50.0,
        turn_spacing_m=450.0,
        wander_deg_per_sqrt_m=2.0,
        leg_distance_m=(800.0, 15000.0),
    ),
    "bus": ModeProfile(
        cruise_speed_mps=8.5,
        cruise_speed_sd_mps=2.5,
        speed_fluctuation_sd_mps=1.2,
        max_speed_mps=17.0,
        accel_mps2=1.0,
        decel_mps2=1.2,
        stop_spacing_m=450.0,
        stop_spacing_sd_m=180.0,
        stop_dwell_s=25.0,
        stop_skip_prob=0.15,
        light_spacing_m=250.0,
        light_stop_prob=0.5,
        light_wait_max_s=50.0,
        turn_spacing_m=1500.0,
        wander_deg_per_sqrt_m=1.2,
        leg_distance_m=(1500.0, 20000.0),
        vehicle_accuracy_factor=1.4,
    ),
    "tram": ModeProfile(
        cruise_speed_mps=8.5,
        cruise_speed_sd_mps=1.5,
        speed_fluctuation_sd_mps=0.8,
        max_speed_mps=17.0,
        accel_mps2=1.1,
        decel_mps2=1.2,
        stop_spacing_m=500.0,
        stop_spacing_sd_m=120.0,
        stop_dwell_s=20.0,
        stop_skip_prob=0.03,
        light_spacing_m=600.0,
        light_stop_prob=0.2,
        light_wait_max_s=30.0,
        turn_spacing_m=1500.0,
        wander_deg_per_sqrt_m=0.8,
        leg_distance_m=(1000.0, 12000.0),
        vehicle_accuracy_factor=1.4,
    ),
    "metro": ModeProfile(
        cruise_speed_mps=16.0,
        cruise_speed_sd_mps=3.0,
        speed_fluctuation_sd_mps=0.6,
        max_speed_mps=25.0,
        accel_mps2=1.1,
        decel_mps2=1.2,
        stop_spacing_m=1000.0,
        stop_spacing_sd_m=400.0,
        stop_dwell_s=25.0,
        stop_skip_prob=0.0,
        light_spacing_m=0.0,
        light_stop_prob=0.0,
        light_wait_max_s=0.0,
        turn_spacing_m=6000.0,
        wander_deg_per_sqrt_m=0.6,
        leg_distance_m=(1500.0, 20000.0),
        underground_prob=0.75,
        vehicle_accuracy_factor=1.6,
    ),
    "train": ModeProfile(
        cruise_speed_mps=24.0,
        cruise_speed_sd_mps=9.0,
        speed_fluctuation_sd_mps=1.5,
        max_speed_mps=44.0,
        accel_mps2=0.5,
        decel_mps2=0.6,
        stop_spacing_m=9000.0,
        stop_spacing_sd_m=4000.0,
        stop_dwell_s=60.0,
        stop_skip_prob=0.2,
        light_spacing_m=0.0,
        light_stop_prob=0.0,
        light_wait_max_s=0.0,
        turn_spacing_m=0.0,
        wander_deg_per_sqrt_m=0.3,
        leg_distance_m=(8000.0, 120000.0),
        underground_prob=0.05,
        vehicle_accuracy_factor=1.8,
    ),
    "car": ModeProfile(
        cruise_speed_mps=13.0,
        cruise_speed_sd_mps=6.0,
        speed_fluctuation_sd_mps=2.5,
        max_speed_mps=36.0,
        accel_mps2=2.0,
        decel_mps2=2.5,
        stop_spacing_m=0.0,
        stop_spacing_sd_m=0.0,
        stop_dwell_s=0.0,
        stop_skip_prob=0.0,
        light_spacing_m=500.0,
        light_stop_prob=0.4,
        light_wait_max_s=50.0,
        turn_spacing_m=2000.0,
        wander_deg_per_sqrt_m=1.0,
        leg_distance_m=(2000.0, 50000.0),
        vehicle_accuracy_factor=1.2,
    ),
    "motorbike": ModeProfile(
        cruise_speed_mps=14.0,
        cruise_speed_sd_mps=4.5,
        speed_fluctuation_sd_mps=2.0,
        max_speed_mps=36.0,
        accel_mps2=3.0,
        decel_mps2=3.0,
        stop_spacing_m=0.0,
        stop_spacing_sd_m=0.0,
        stop_dwell_s=0.0,
        stop_skip_prob=0.0,
        light_spacing_m=500.0,
        light_stop_prob=0.3,
        light_wait_max_s=35.0,
        turn_spacing_m=900.0,
        wander_deg_per_sqrt_m=1.2,
        leg_distance_m=(1500.0, 30000.0),
    ),
}
