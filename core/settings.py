"""Settings, read from ``SILLAGE_*`` environment variables.

Nothing is read at import time: :func:`load_settings` takes the environment mapping, so tests pass
their own. Units are in the field names.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

import msgspec

from core.calibration import ConfidenceCalibration, finite
from core.errors import ConfigurationError
from core.history import ASK_BELOW, AUDIT_SHARE


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the service needs to start; immutable once built."""

    database_url: str | None = None
    admin_database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True
    pool_min_size: int = 1
    pool_max_size: int = 10
    db_connect_timeout_s: float = 5.0
    health_timeout_s: float = 2.0
    max_body_bytes: int = 1024 * 1024
    max_fixes_per_batch: int = 1000
    rate_limit_per_minute: int = 600
    # Exports of one tester under way at once, per API process: each spools to a temporary file as
    # large as itself (ingest.spool), so a loop of requests could otherwise fill the disk.
    exports_per_tester: int = 2
    workers: int = 1
    pipeline_enabled: bool = True
    pipeline_poll_s: float = 5.0
    jobs_enabled: bool = True
    carpool_every_h: float = 24.0
    release_every_h: float = 6.0
    # "pooled": one release per period of every campaign's testers; "campaign": one per campaign
    # (a national programme, each city's team reading its own: migration 0032).
    release_scope: str = "pooled"
    # A section is to confirm below this probability of its most likely mode, or when it is among
    # this share of the others, drawn at random (core.history.audited).
    ask_below: float = ASK_BELOW
    audit_share: float = AUDIT_SHARE
    # The probability shown, calibrated on the deployment's answers (core.calibration): read from
    # the file SILLAGE_CALIBRATION names, as `sillage models calibrate --out` writes it.
    calibration: ConfidenceCalibration | None = None

    @property
    def migration_url(self) -> str | None:
        """Migrations run as the schema owner when one is configured, else as the app."""
        return self.admin_database_url or self.database_url


def _int(env: Mapping[str, str], key: str, default: int, *, low: int = 0, high: int | None = None) -> int:
    """An integer from ``low`` to ``high``: a value out of range (a port of 99999, a pool of no
    connection) would start a server that cannot serve, with no word of why."""
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{key} must be an integer, got {raw!r}") from exc
    if value < low or (high is not None and value > high):
        bounds = f"from {low}" + ("" if high is None else f" to {high}")
        raise ConfigurationError(f"{key} must be an integer {bounds}, got {raw!r}")
    return value


_ON, _OFF = {"on", "1", "true", "yes"}, {"off", "0", "false", "no"}


def _switch(env: Mapping[str, str], key: str, default: bool) -> bool:
    """on/off (1/0, true/false, yes/no); anything else is refused rather than read as on."""
    raw = env.get(key, "").strip().lower()
    if raw == "":
        return default
    if raw not in _ON | _OFF:
        raise ConfigurationError(f"{key} must be on or off, got {env[key]!r}")
    return raw in _ON


def _choice(env: Mapping[str, str], key: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(key, "").strip()
    if raw == "":
        return default
    if raw.lower() not in choices:
        raise ConfigurationError(f"{key} must be one of {', '.join(choices)}, got {raw!r}")
    return raw.lower()


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{key} must be a number, got {raw!r}") from exc


def _period(env: Mapping[str, str], key: str, default: float, unit: str) -> float:
    """A periodic job's interval (or the pipeline's polling): zero or less would have it run back
    to back (a sleep of zero between runs), and infinity or NaN is no schedule at all."""
    value = _float(env, key, default)
    if not (math.isfinite(value) and value > 0):
        raise ConfigurationError(f"{key} must be a positive number of {unit}, got {env[key]!r}")
    return value


def _share(env: Mapping[str, str], key: str, default: float) -> float:
    """A probability, from 0 to 1."""
    value = _float(env, key, default)
    if not 0.0 <= value <= 1.0:  # NaN too
        raise ConfigurationError(f"{key} must be a number from 0 to 1, got {env[key]!r}")
    return value


def _calibration(env: Mapping[str, str], key: str) -> ConfidenceCalibration | None:
    """The calibration in the file ``key`` names: a missing, unreadable or malformed file, or a map
    that is not finite and increasing, is refused at start rather than served."""
    raw = env.get(key, "").strip()
    if raw == "":
        return None
    try:
        with open(raw, "rb") as fh:
            fitted = msgspec.json.decode(fh.read(), type=ConfidenceCalibration)
    except OSError as exc:
        raise ConfigurationError(f"{key}: cannot read {raw!r}: {exc.strerror}") from exc
    except msgspec.ValidationError as exc:
        raise ConfigurationError(
            f"{key}: {raw!r} is not a calibration (sillage models calibrate --out): {exc}"
        ) from exc
    except msgspec.DecodeError as exc:
        raise ConfigurationError(f"{key}: {raw!r} is not JSON: {exc}") from exc
    if not finite(fitted):
        raise ConfigurationError(f"{key}: {raw!r} holds no finite, increasing map (slope must be above 0)")
    return fitted


_LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``env`` (default: the process environment)."""
    e = os.environ if env is None else env
    return Settings(
        database_url=e.get("SILLAGE_DATABASE_URL") or None,
        admin_database_url=e.get("SILLAGE_ADMIN_DATABASE_URL") or None,
        host=e.get("SILLAGE_HOST", "127.0.0.1"),
        port=_int(e, "SILLAGE_PORT", 8000, low=0, high=65535),
        log_level=_choice(e, "SILLAGE_LOG_LEVEL", "info", _LOG_LEVELS).upper(),
        log_json=_choice(e, "SILLAGE_LOG_FORMAT", "json", ("json", "text")) == "json",
        pool_min_size=_int(e, "SILLAGE_POOL_MIN_SIZE", 1, low=0),
        pool_max_size=_int(e, "SILLAGE_POOL_MAX_SIZE", 10, low=1),
        db_connect_timeout_s=_float(e, "SILLAGE_DB_CONNECT_TIMEOUT_S", 5.0),
        health_timeout_s=_float(e, "SILLAGE_HEALTH_TIMEOUT_S", 2.0),
        max_body_bytes=_int(e, "SILLAGE_MAX_BODY_BYTES", 1024 * 1024, low=1),
        max_fixes_per_batch=_int(e, "SILLAGE_MAX_FIXES_PER_BATCH", 1000, low=1),
        rate_limit_per_minute=_int(e, "SILLAGE_RATE_LIMIT_PER_MINUTE", 600, low=0),
        exports_per_tester=_int(e, "SILLAGE_EXPORTS_PER_TESTER", 2, low=1),
        workers=_int(e, "SILLAGE_WORKERS", 1, low=1),
        pipeline_enabled=_switch(e, "SILLAGE_PIPELINE", True),
        pipeline_poll_s=_period(e, "SILLAGE_PIPELINE_POLL_S", 5.0, "seconds"),
        jobs_enabled=_switch(e, "SILLAGE_JOBS", True),
        carpool_every_h=_period(e, "SILLAGE_CARPOOL_EVERY_H", 24.0, "hours"),
        release_every_h=_period(e, "SILLAGE_RELEASE_EVERY_H", 6.0, "hours"),
        release_scope=_choice(e, "SILLAGE_RELEASE_SCOPE", "pooled", ("pooled", "campaign")),
        ask_below=_share(e, "SILLAGE_ASK_BELOW", ASK_BELOW),
        audit_share=_share(e, "SILLAGE_AUDIT_SHARE", AUDIT_SHARE),
        calibration=_calibration(e, "SILLAGE_CALIBRATION"),
    )
