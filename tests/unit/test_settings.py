import pytest

from core.errors import ConfigurationError
from core.settings import load_settings


def test_defaults_serve_on_loopback_8000() -> None:
    s = load_settings({})
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert s.database_url is None


def test_host_and_port_come_from_the_environment() -> None:
    s = load_settings({"SILLAGE_HOST": "0.0.0.0", "SILLAGE_PORT": "9000"})
    assert (s.host, s.port) == ("0.0.0.0", 9000)


def test_migrations_use_the_admin_url_when_given() -> None:
    s = load_settings({"SILLAGE_DATABASE_URL": "postgresql://app@h/db"})
    assert s.migration_url == "postgresql://app@h/db"
    s = load_settings(
        {
            "SILLAGE_DATABASE_URL": "postgresql://app@h/db",
            "SILLAGE_ADMIN_DATABASE_URL": "postgresql://admin@h/db",
        }
    )
    assert s.migration_url == "postgresql://admin@h/db"


def test_a_non_numeric_port_is_a_clear_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="SILLAGE_PORT"):
        load_settings({"SILLAGE_PORT": "eighty"})


@pytest.mark.parametrize(
    ("key", "unit"),
    [
        ("SILLAGE_RELEASE_EVERY_H", "hours"),
        ("SILLAGE_CARPOOL_EVERY_H", "hours"),
        ("SILLAGE_PIPELINE_POLL_S", "seconds"),
    ],
)
@pytest.mark.parametrize("raw", ["0", "-5", "nan", "inf", "-inf"])
def test_a_job_interval_that_is_not_a_positive_number_is_refused(key: str, unit: str, raw: str) -> None:
    # Zero had the job run back to back: thousands of releases in seconds.
    with pytest.raises(ConfigurationError, match=f"{key} must be a positive number of {unit}"):
        load_settings({key: raw})


def test_job_intervals_are_hours_from_the_environment() -> None:
    s = load_settings({"SILLAGE_RELEASE_EVERY_H": "0.5", "SILLAGE_CARPOOL_EVERY_H": "12"})
    assert (s.release_every_h, s.carpool_every_h) == (0.5, 12.0)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SILLAGE_PORT": "99999"}, "SILLAGE_PORT must be an integer from 0 to 65535"),
        ({"SILLAGE_POOL_MAX_SIZE": "0"}, "SILLAGE_POOL_MAX_SIZE must be an integer from 1"),
        ({"SILLAGE_WORKERS": "0"}, "SILLAGE_WORKERS must be an integer from 1"),
        ({"SILLAGE_PIPELINE": "maybe"}, "SILLAGE_PIPELINE must be on or off"),
        ({"SILLAGE_JOBS": "sometimes"}, "SILLAGE_JOBS must be on or off"),
        ({"SILLAGE_LOG_FORMAT": "xml"}, "SILLAGE_LOG_FORMAT must be one of json, text"),
        ({"SILLAGE_LOG_LEVEL": "loud"}, "SILLAGE_LOG_LEVEL must be one of debug, info"),
    ],
)
def test_a_setting_the_server_could_not_run_with_is_refused_at_start_up(
    env: dict[str, str], message: str
) -> None:
    # Before, a port of 99999 logged "running" with nothing listening, "maybe" meant on, "xml" json.
    with pytest.raises(ConfigurationError, match=message):
        load_settings(env)


def test_switches_and_choices_read_their_usual_spellings() -> None:
    s = load_settings({"SILLAGE_PIPELINE": "No", "SILLAGE_JOBS": "1", "SILLAGE_LOG_FORMAT": "TEXT"})
    assert (s.pipeline_enabled, s.jobs_enabled, s.log_json) == (False, True, False)
    assert load_settings({"SILLAGE_LOG_LEVEL": "warning"}).log_level == "WARNING"


def test_the_threshold_for_asking_about_a_section_is_a_probability() -> None:
    assert load_settings({}).ask_below == 0.8
    assert load_settings({"SILLAGE_ASK_BELOW": "0.9"}).ask_below == 0.9
    assert load_settings({"SILLAGE_ASK_BELOW": "0"}).ask_below == 0.0  # never ask
    for raw in ("1.5", "-0.1", "nan", "often"):
        with pytest.raises(ConfigurationError, match="SILLAGE_ASK_BELOW must be a number"):
            load_settings({"SILLAGE_ASK_BELOW": raw})


def test_exports_at_once_per_tester_are_read_and_at_least_one() -> None:
    assert load_settings({}).exports_per_tester == 2
    assert load_settings({"SILLAGE_EXPORTS_PER_TESTER": "5"}).exports_per_tester == 5
    with pytest.raises(ConfigurationError):
        load_settings({"SILLAGE_EXPORTS_PER_TESTER": "0"})
