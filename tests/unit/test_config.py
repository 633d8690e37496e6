from pathlib import Path

import pytest

from infra.config import Config, ConfigError


def test_nothing_configured_means_the_embedded_default():
    config = Config.from_env({})
    assert config.persistence_module == "eventsourcing.sqlite"
    assert config.data_dir == Path("var").absolute()
    assert config.redis_url is None
    assert config.timezone == "Asia/Jakarta"
    assert config.jurnal_rate_limit_per_minute == 30
    assert config.jurnal_rate_limit_per_hour == 1800  # documented, not 60 times the minute
    assert config.jurnal_ip_rate_limit_per_minute == 40
    assert config.jurnal_ip_rate_limit_per_hour == 2500
    assert config.jurnal_rate_window_seconds == 60
    assert config.event_store_env()["SQLITE_DBNAME"].endswith("var/events.sqlite")


def test_postgres_is_chosen_by_persistence_module():
    config = Config.from_env(
        {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": "sambung",
         "POSTGRES_HOST": "db", "POSTGRES_USER": "u", "POSTGRES_PASSWORD": "p"}
    )  # fmt: skip
    env = config.event_store_env()
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert env["POSTGRES_HOST"] == "db"
    assert "SQLITE_DBNAME" not in env


def test_postgres_without_a_host_names_the_missing_variable():
    config = Config.from_env({"PERSISTENCE_MODULE": "eventsourcing.postgres"})
    with pytest.raises(ConfigError, match="POSTGRES_DBNAME, POSTGRES_HOST"):
        config.event_store_env()


def test_an_unknown_persistence_module_is_refused_by_name():
    with pytest.raises(ConfigError, match="PERSISTENCE_MODULE"):
        Config.from_env({"PERSISTENCE_MODULE": "eventsourcing.mysql"})


@pytest.mark.parametrize(
    "name",
    [
        "JURNAL_RATE_LIMIT_PER_MINUTE",
        "JURNAL_RATE_LIMIT_PER_HOUR",
        "JURNAL_IP_RATE_LIMIT_PER_MINUTE",
        "JURNAL_IP_RATE_LIMIT_PER_HOUR",
    ],
)
@pytest.mark.parametrize("raw", ["abc", "0", "-5", "2.5"])
def test_each_rate_limit_must_be_a_positive_whole_number(name, raw):
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: raw})


def test_the_limits_and_the_window_are_read_from_the_environment():
    # A stricter plan than the documented defaults: the variables may tighten the budget; tests
    # compress time with the window, never lift a limit.
    config = Config.from_env(
        {"JURNAL_RATE_LIMIT_PER_MINUTE": "20", "JURNAL_RATE_LIMIT_PER_HOUR": "600",
         "JURNAL_IP_RATE_LIMIT_PER_MINUTE": "25", "JURNAL_IP_RATE_LIMIT_PER_HOUR": "750",
         "JURNAL_RATE_WINDOW_SECONDS": "1.5"}
    )  # fmt: skip
    assert (
        config.jurnal_rate_limit_per_minute,
        config.jurnal_rate_limit_per_hour,
        config.jurnal_ip_rate_limit_per_minute,
        config.jurnal_ip_rate_limit_per_hour,
        config.jurnal_rate_window_seconds,
    ) == (20, 600, 25, 750, 1.5)


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "inf", "nan"])
def test_the_rate_window_must_be_a_positive_number_of_seconds(raw):
    with pytest.raises(ConfigError, match="JURNAL_RATE_WINDOW_SECONDS"):
        Config.from_env({"JURNAL_RATE_WINDOW_SECONDS": raw})


def test_the_live_pull_runs_every_two_minutes_unless_set_and_zero_turns_it_off():
    assert Config.from_env({}).live_pull_seconds == 120
    assert Config.from_env({"SAMBUNG_LIVE_PULL_SECONDS": "15"}).live_pull_seconds == 15
    assert Config.from_env({"SAMBUNG_LIVE_PULL_SECONDS": "0"}).live_pull_seconds == 0
    with pytest.raises(ConfigError, match="SAMBUNG_LIVE_PULL_SECONDS must be zero or more"):
        Config.from_env({"SAMBUNG_LIVE_PULL_SECONDS": "-5"})
