"""Config loading order and the refusal to run with the default secret key."""

from __future__ import annotations

import pytest

from ssp import create_app
from ssp.config import INSECURE_SECRET_KEY, ConfigError, normalise_database_uri


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No SSP_* variables from the developer's shell; an empty instance folder."""
    import os

    for name in list(os.environ):
        if name.startswith("SSP_"):
            monkeypatch.delenv(name)
    instance = tmp_path / "instance"
    instance.mkdir()
    monkeypatch.setenv("SSP_INSTANCE_PATH", str(instance))
    return instance


def test_defaults_then_file_then_environment(clean_env, monkeypatch):
    (clean_env / "config.py").write_text(
        "SECRET_KEY = 'file-secret-key-0123456789'\n"
        "PROGRAM_NAME = 'From the file'\n"
        "TIMEZONE = 'America/Chicago'\n"
    )
    monkeypatch.setenv("SSP_PROGRAM_NAME", "From the environment")
    monkeypatch.setenv("SSP_LOGIN_MAX_FAILURES", "3")

    app = create_app()

    assert app.config["PROGRAM_NAME"] == "From the environment"  # env beats file
    assert app.config["TIMEZONE"] == "America/Chicago"  # file beats default
    assert app.config["LOGIN_MAX_FAILURES"] == 3  # parsed as JSON: an int
    assert app.config["PASSWORD_MIN_LENGTH"] == 12  # default kept
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{clean_env / 'ssp.sqlite3'}"


def test_ssp_config_names_another_file(clean_env, monkeypatch, tmp_path):
    other = tmp_path / "elsewhere.py"
    other.write_text("SECRET_KEY = 'other-secret-key-0123456789'\nPROGRAM_NAME = 'Other'\n")
    (clean_env / "config.py").write_text("PROGRAM_NAME = 'Instance file, not used'\n")
    monkeypatch.setenv("SSP_CONFIG", str(other))

    assert create_app().config["PROGRAM_NAME"] == "Other"


def test_missing_ssp_config_file_is_an_error(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("SSP_CONFIG", str(tmp_path / "missing.py"))
    with pytest.raises(OSError):
        create_app()


def test_mapping_replaces_the_file_and_wins(clean_env, monkeypatch):
    (clean_env / "config.py").write_text("PROGRAM_NAME = 'From the file'\n")
    monkeypatch.setenv("SSP_TIMEZONE", "America/Denver")
    app = create_app({"TESTING": True, "TIMEZONE": "UTC"})
    assert app.config["PROGRAM_NAME"] != "From the file"
    assert app.config["TIMEZONE"] == "UTC"


def test_refuses_default_secret_key_outside_debug_and_testing(clean_env):
    with pytest.raises(ConfigError) as excinfo:
        create_app()
    message = str(excinfo.value)
    assert "SECRET_KEY" in message and "SSP_SECRET_KEY" in message and "quickstart" in message


def test_refuses_short_secret_key(clean_env, monkeypatch):
    monkeypatch.setenv("SSP_SECRET_KEY", "short")
    with pytest.raises(ConfigError):
        create_app()


@pytest.mark.parametrize("flag", ["SSP_DEBUG", "SSP_TESTING"])
def test_default_secret_is_tolerated_in_debug_and_testing(clean_env, monkeypatch, flag):
    monkeypatch.setenv(flag, "true")
    assert create_app().config["SECRET_KEY"] == INSECURE_SECRET_KEY


def test_a_real_secret_from_the_environment_starts_the_app(clean_env, monkeypatch):
    monkeypatch.setenv("SSP_SECRET_KEY", "environment-secret-0123456789")
    assert create_app().config["SECRET_KEY"] == "environment-secret-0123456789"


def test_postgresql_urls_use_psycopg_3():
    assert normalise_database_uri("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_uri("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_uri("sqlite:///x.db") == "sqlite:///x.db"


def _settings_in(path) -> set[str]:
    import ast

    tree = ast.parse(path.read_text())
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id.isupper()
    }


def test_config_example_documents_every_setting_and_loads(clean_env, monkeypatch):
    from pathlib import Path

    from ssp.config import Defaults

    example = Path(__file__).resolve().parent.parent / "config.example.py"
    defaults = {name for name in vars(Defaults) if name.isupper()}
    assert _settings_in(example) == defaults

    monkeypatch.setenv("SSP_CONFIG", str(example))
    with pytest.raises(ConfigError):  # its SECRET_KEY is empty on purpose
        create_app()
    monkeypatch.setenv("SSP_SECRET_KEY", "a-real-secret-from-the-environment")
    app = create_app()
    derived = {"SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "REPORTS_DIR", "PARTICIPANT_CODE_SCHEME"}
    for name in defaults - derived:
        assert app.config[name] == getattr(Defaults, name), name
