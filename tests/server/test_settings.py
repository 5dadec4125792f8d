"""Settings from a flag, the environment and a config file: flag > environment > file > default,
and every bad value refused naming the setting and where it came from."""

from __future__ import annotations

import re

import pytest

from server.app import DEFAULTS
from server.cli import build_parser
from server.cli.serve import _settings
from server.cli.settings import SetupError, redacted, resolve

URL_A = "postgresql://teacher@db.example:5433/course_a"
URL_B = "postgresql://teacher@db.example/course_b"
URL_C = "postgres://teacher@127.0.0.1/course_c"


@pytest.fixture
def clean_environment(monkeypatch):
    for name in [*DEFAULTS, "CONFIG"]:
        monkeypatch.delenv(f"BACKPROP_LIVE_{name}", raising=False)
    return monkeypatch


def serve(*argv):
    return build_parser().parse_args(["serve", *argv])


def test_none_given_leaves_every_setting_to_its_default(clean_environment):
    assert _settings(serve()) == {}
    assert DEFAULTS["DATABASE"] is None  # the embedded SQLite database in the data dir


def test_a_flag_wins_over_the_environment_which_wins_over_the_file(clean_environment, tmp_path):
    config = tmp_path / "backprop-live.toml"
    config.write_text(f'database = "{URL_A}"\nmax_training_jobs = 8\nbase_url = "/b/"\n')
    assert _settings(serve("--config", str(config))) == {
        "DATABASE": URL_A, "MAX_TRAINING_JOBS": 8, "BASE_URL": "/b/"}
    clean_environment.setenv("BACKPROP_LIVE_DATABASE", URL_B)
    clean_environment.setenv("BACKPROP_LIVE_MAX_TRAINING_JOBS", "6")
    from_env = _settings(serve("--config", str(config)))
    assert (from_env["DATABASE"], from_env["MAX_TRAINING_JOBS"]) == (URL_B, 6)
    flagged = _settings(serve("--config", str(config), "--database", URL_C,
                              "--set", "MAX_TRAINING_JOBS=3"))
    assert (flagged["DATABASE"], flagged["MAX_TRAINING_JOBS"]) == (URL_C, 3)
    assert flagged["BASE_URL"] == "/b/"  # what no one above the file gave stays the file's


def test_the_config_file_may_be_named_by_the_environment(clean_environment, tmp_path):
    config = tmp_path / "settings.toml"
    config.write_text(f'database = "{URL_A}"\n')
    clean_environment.setenv("BACKPROP_LIVE_CONFIG", str(config))
    assert _settings(serve())["DATABASE"] == URL_A


def test_an_empty_database_setting_means_sqlite(clean_environment):
    clean_environment.setenv("BACKPROP_LIVE_DATABASE", "")
    assert _settings(serve())["DATABASE"] is None


@pytest.mark.parametrize("argv, environment, file_text, named", [
    (["--database", "mysql://root@db/x"], {}, None, "DATABASE (from --database)"),
    (["--database", "/var/lib/db.sqlite3"], {}, None, "DATABASE (from --database)"),
    (["--database", "postgresql://db:port/x"], {}, None, "DATABASE (from --database)"),
    ([], {"BACKPROP_LIVE_DATABASE": "sqlite:///x"}, None,
     "DATABASE (from $BACKPROP_LIVE_DATABASE)"),
    ([], {}, 'database = "redis://cache"', "DATABASE (from database in "),
    ([], {}, 'max_training_jobs = "many"', "MAX_TRAINING_JOBS (from max_training_jobs in "),
    ([], {}, "max_training_jobs = true", "MAX_TRAINING_JOBS"),
    ([], {}, "databse = 'postgresql://db/x'", "'databse' is not a setting"),
    ([], {}, "data_dir = '/srv'", "'data_dir' is not a setting"),
    ([], {}, "database = ", "is not TOML"),
    ([], {"BACKPROP_LIVE_TRUSTED_PROXIES": "one"}, None, "TRUSTED_PROXIES (from $BACKPROP"),
])
def test_a_bad_value_is_refused_naming_the_setting_and_its_source(
        clean_environment, tmp_path, argv, environment, file_text, named):
    for key, value in environment.items():
        clean_environment.setenv(key, value)
    if file_text is not None:
        config = tmp_path / "c.toml"
        config.write_text(file_text + "\n")
        argv = [*argv, "--config", str(config)]
    with pytest.raises(SetupError, match=re.escape(named)):
        _settings(serve(*argv))


def test_a_missing_config_file_is_named(clean_environment, tmp_path):
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(SetupError, match=f"{missing} cannot be read"):
        _settings(serve("--config", str(missing)))


def test_a_password_never_appears_in_an_error(clean_environment):
    with pytest.raises(SetupError) as caught:
        _settings(serve("--database", "mysql://admin:hunter2@db/x"))
    assert "hunter2" not in str(caught.value) and "admin:***@db" in str(caught.value)
    assert redacted("postgresql://u:p4ss@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert redacted(URL_A) == URL_A


def test_resolve_serves_any_command_with_the_settings_it_declares(clean_environment, tmp_path):
    """train and runs take --database and --config too: they open the web app's store."""
    for command in ("train", "runs"):
        argv = [command, "--database", URL_A] + (["list"] if command == "runs" else [])
        args = build_parser().parse_args(argv)
        assert resolve(args, DEFAULTS)["DATABASE"] == URL_A


def test_the_secret_key_is_a_setting_so_web_processes_can_share_it(clean_environment, tmp_path):
    clean_environment.setenv("BACKPROP_LIVE_SECRET_KEY", "from-the-environment")
    assert _settings(serve())["SECRET_KEY"] == "from-the-environment"
    clean_environment.delenv("BACKPROP_LIVE_SECRET_KEY")
    config = tmp_path / "c.toml"
    config.write_text('secret_key = "from-the-file"\n')
    assert _settings(serve("--config", str(config)))["SECRET_KEY"] == "from-the-file"
