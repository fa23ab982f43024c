"""The command line as a newcomer meets it: every usual mistake is one line and a non-zero
exit, never a traceback; `ssp serve` and /healthz refuse a database that is not ready."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import create_engine, text

from ssp import create_app
from ssp.extensions import db
from tests.conftest import SECRET, app_config, on_postgresql, scratch_postgresql_database
from tests.test_cli import FAST, process_environ, run

KEY = {"SSP_SECRET_KEY": SECRET}


def _one_line_error(result, exit_code: int = 1) -> str:
    assert result.exit_code == exit_code, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    return lines[0]


def _postgresql_answers() -> bool:
    try:
        psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=2
        ).close()
    except psycopg.Error:
        return False
    return True


needs_postgresql = pytest.mark.skipif(
    not _postgresql_answers(), reason="needs the PostgreSQL server on 127.0.0.1:5432"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _set_up(tmp_path) -> dict[str, str]:
    """A quickstarted instance; returns the environment that reaches it."""
    env = {"SSP_INSTANCE_PATH": str(tmp_path / "instance"), **FAST}
    result = run(
        ["quickstart", "--no-serve", "--password-stdin"], input="kettle orbit velvet 42\n", **env
    )
    assert result.exit_code == 0, result.output
    return env


# --- database URLs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("notaurl", "is not a database URL"),
        ("mysql://someone:hunter2secret@db.example/ssp", "names a 'mysql' database"),
        ("http://x", "names a 'http' database"),
    ],
)
@pytest.mark.parametrize(
    "command", [["report", "--period", "2026-10"], ["db", "upgrade"], ["serve"]]
)
def test_an_unusable_database_url_is_one_line(url, says, command):
    line = _one_line_error(run(command, SSP_SQLALCHEMY_DATABASE_URI=url, **KEY), exit_code=2)
    assert says in line and "postgresql://" in line
    assert "hunter2secret" not in line


DRIVERS_NOT_INSTALLED = [
    ("postgresql+psycopg2://postgres:hunter2secret@127.0.0.1/x", "psycopg2"),
    ("postgresql+asyncpg://postgres:hunter2secret@127.0.0.1/x", "asyncpg"),
    ("postgresql+pg8000://postgres:hunter2secret@127.0.0.1/x", "pg8000"),
    ("sqlite+pysqlcipher:///x.sqlite3", "pysqlcipher"),
]
NO_DATABASE_NAME = ["postgresql://", "postgresql://127.0.0.1:5432/", "postgres://u:p@h"]


@pytest.mark.parametrize(("url", "driver"), DRIVERS_NOT_INSTALLED)
@pytest.mark.parametrize(
    "command", [["db", "current"], ["db", "upgrade"], ["report", "--period", "2026-10"]]
)
def test_a_database_driver_ssp_does_not_install_is_one_line(url, driver, command):
    line = _one_line_error(run(command, SSP_SQLALCHEMY_DATABASE_URI=url, **KEY), exit_code=2)
    assert f"the {driver!r} driver" in line and "postgresql://" in line
    assert "hunter2secret" not in line


@pytest.mark.parametrize("url", NO_DATABASE_NAME)
@pytest.mark.parametrize("command", [["db", "current"], ["serve"]])
def test_a_postgresql_url_without_a_database_name_is_refused(url, command):
    line = _one_line_error(run(command, SSP_SQLALCHEMY_DATABASE_URI=url, **KEY), exit_code=2)
    assert "needs the database's name" in line


@pytest.mark.parametrize("url", [url for url, _ in DRIVERS_NOT_INSTALLED] + NO_DATABASE_NAME)
def test_quickstart_refuses_an_unusable_driver_or_no_database_name_and_writes_nothing(
    tmp_path, url
):
    result = run(
        ["quickstart", "--no-serve", "--database-url", url],
        SSP_INSTANCE_PATH=str(tmp_path / "instance"),
    )
    line = _one_line_error(result)
    assert "driver" in line or "needs the database's name" in line
    assert not (tmp_path / "instance").exists()


# --- which database failure it is -----------------------------------------------------


def test_a_missing_sqlite_folder_is_named_also_while_upgrading(tmp_path):
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'ssp.sqlite3'}"
    for command in (["db", "upgrade"], ["create-user", "sam", "--role", "admin"]):
        line = _one_line_error(run(command, SSP_SQLALCHEMY_DATABASE_URI=url, **KEY))
        assert f"the folder {tmp_path / 'no' / 'such'} does not exist" in line
        assert "ssp db upgrade" not in line  # upgrading would not help


def test_a_database_without_tables_says_to_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    line = _one_line_error(
        run(["create-user", "sam", "--role", "admin"], SSP_SQLALCHEMY_DATABASE_URI=url, **KEY)
    )
    assert "has no ssp tables" in line and "run `ssp db upgrade`" in line


@needs_postgresql
@pytest.mark.parametrize(
    ("url", "says"),
    [
        (
            "postgresql://postgres@127.0.0.1:{free}/ssp",
            "Nothing answers as PostgreSQL at 127.0.0.1:{free}",
        ),
        ("postgresql://no_such_person@127.0.0.1:5432/postgres", "has no user 'no_such_person'"),
        (
            "postgresql://postgres@127.0.0.1:5432/no_such_database_here",
            "has no database 'no_such_database_here'",
        ),
    ],
)
@pytest.mark.parametrize(
    "command", [["db", "upgrade"], ["report", "--period", "2026-10"], ["serve"]]
)
def test_each_postgresql_failure_is_named(url, says, command):
    free = str(_free_port())
    line = _one_line_error(run(command, SSP_SQLALCHEMY_DATABASE_URI=url.format(free=free), **KEY))
    assert says.format(free=free) in line


# --- serve ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["serve", "quickstart"])
def test_a_port_in_use_is_one_line_and_nothing_says_serving(tmp_path, command):
    env = _set_up(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = [command, "--port", str(port)]
        if command == "quickstart":
            args.append("--password-stdin")
        result = run(args, input="kettle orbit velvet 42\n", **env)
    assert result.exit_code == 1
    assert "serving on" not in result.output
    assert result.output.strip().splitlines()[-1] == (
        f"Error: Cannot listen on 127.0.0.1:{port}: the port is already in use "
        "(stop what uses it, or choose --port)."
    )


def test_serve_without_the_instance_folder_is_one_line(tmp_path):
    missing = tmp_path / "not-made-yet"
    line = _one_line_error(run(["serve"], SSP_INSTANCE_PATH=str(missing), **KEY))
    assert f"the folder {missing} does not exist" in line and "ssp quickstart" in line
    assert not missing.exists()


def test_serve_refuses_a_database_without_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    line = _one_line_error(run(["serve"], SSP_SQLALCHEMY_DATABASE_URI=url, **KEY))
    assert line == "Error: Not serving. The database has no ssp tables yet: run `ssp db upgrade`."


def test_serve_refuses_a_database_behind_the_latest_migration(tmp_path):
    env = _set_up(tmp_path)
    assert run(["db", "downgrade"], **env).exit_code == 0
    line = _one_line_error(run(["serve"], **env))
    assert (
        line
        == "Error: Not serving. The database is not at the latest migration: run `ssp db upgrade`."
    )


def test_serve_refuses_a_database_from_a_newer_version(tmp_path):
    env = _set_up(tmp_path)
    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'ssp.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeedbeef'"))
    engine.dispose()
    line = _one_line_error(run(["serve"], **env))
    assert "migrated by a newer version of ssp (f00dfeedbeef)" in line


def test_flasks_development_server_is_not_offered(tmp_path):
    env = _set_up(tmp_path)
    listed = run(["--help"], **env).output
    assert " serve " in listed and " run " not in listed
    assert " shell " in listed and " routes " in listed
    result = run(["run"], **env)
    assert result.exit_code == 2 and "No such command 'run'" in result.output


# --- /healthz -------------------------------------------------------------------------


def _health(app) -> tuple[int, dict]:
    response = app.test_client().get("/healthz")
    return response.status_code, response.get_json()


def test_healthz_is_ok_on_a_migrated_database(app):
    assert _health(app) == (200, {"status": "ok"})


@pytest.mark.skipif(
    bool(__import__("os").environ.get("SSP_TEST_DATABASE_URL")), reason="SQLite files"
)
def test_healthz_is_503_on_an_empty_or_old_database(tmp_path):
    app = create_app(
        app_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    )
    assert _health(app) == (503, {"status": "unavailable"})  # not even a table
    with app.app_context():
        db.create_all()  # tables, but no migration recorded
    assert _health(app)[0] == 503


def test_healthz_is_503_when_the_database_does_not_answer(tmp_path):
    url = f"sqlite:///{tmp_path / 'gone' / 'x.sqlite3'}"
    app = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))
    assert _health(app) == (503, {"status": "unavailable"})


# --- reference data comes with the schema ----------------------------------------------


@pytest.fixture
def empty_database_url(tmp_path) -> Iterator[str]:
    """A database with nothing in it: a scratch one on the PostgreSQL test server when the
    suite runs there, else a new SQLite file."""
    if on_postgresql():
        with scratch_postgresql_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'ssp.sqlite3'}"


def test_db_upgrade_alone_leaves_a_program_ready_for_a_report(tmp_path, empty_database_url):
    """The PostgreSQL path without quickstart: upgrade, demo data, then a report (on
    PostgreSQL when SSP_TEST_DATABASE_URL names one)."""
    env = {
        **KEY,
        "SSP_SQLALCHEMY_DATABASE_URI": empty_database_url,
        "SSP_REPORTS_DIR": str(tmp_path / "reports"),
    }
    first = run(["db", "upgrade"], **env)
    assert first.exit_code == 0, first.output
    assert "Loaded the default supply catalogue (25 items)" in first.output
    assert "Created the 3 standard funder report profiles" in first.output
    again = run(["db", "upgrade"], **env)
    assert "Keeping the existing supply catalogue" in again.output
    assert "funder report profiles" not in again.output
    seeded = run(["seed-demo", "--participants", "40", "--visits", "200", "--months", "2"], **env)
    assert seeded.exit_code == 0, seeded.output
    report = run(["report", "--period", _last_month()], **env)
    assert report.exit_code == 0, report.output
    assert "Archived" in report.output


def test_an_upgrade_to_an_earlier_revision_loads_nothing(tmp_path):
    env = {**KEY, "SSP_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'ssp.sqlite3'}"}
    result = run(["db", "upgrade", "2a9957e0dce9"], **env)
    assert result.exit_code == 0, result.output
    assert "catalogue" not in result.output


def _last_month() -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("America/Los_Angeles"))  # the default TIMEZONE
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year}-{month:02d}"


@needs_postgresql
@pytest.mark.slow
def test_the_readmes_postgresql_steps_work_in_order_and_then_a_report(tmp_path):
    """Each line of the README's PostgreSQL block, as written (the user and database are
    made here, on a database of their own), then demo data and a report."""
    import re
    import subprocess
    import urllib.request
    import uuid
    from pathlib import Path

    from tests.test_cli import _ssp_executable, _wait_for

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = readme.split("<!-- postgresql-steps -->", 1)[1].split("```sh\n", 1)[1]
    lines = block.split("```", 1)[0].strip().splitlines()
    assert lines[0] == "createuser --pwprompt ssp && createdb --owner ssp ssp"
    name = f"ssp_readme_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
    )
    admin.execute(f"CREATE DATABASE {name}")
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    env = process_environ(
        SSP_INSTANCE_PATH=str(tmp_path / "instance"), SSP_REPORTS_DIR=str(tmp_path / "r"), **FAST
    )
    port = _free_port()
    try:
        for line in lines[1:]:
            args = line.replace("postgresql://ssp:PASSWORD@127.0.0.1:5432/ssp", url).split()
            assert args[0] == "ssp"
            if args[1] == "serve":
                args[args.index("--port") + 1] = str(port)
                server = subprocess.Popen(
                    [*_ssp_executable(), *args[1:]],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                try:
                    _wait_for(f"http://127.0.0.1:{port}/healthz", server)
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/sign-in") as page:  # noqa: S310
                        assert page.status == 200
                finally:
                    server.terminate()
                    server.wait(timeout=10)
                continue
            done = subprocess.run(
                [*_ssp_executable(), *args[1:]],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, done.stdout + done.stderr
        config = (tmp_path / "instance" / "config.py").read_text()
        assert re.search(rf"^SQLALCHEMY_DATABASE_URI = '{re.escape(url)}'$", config, re.M)
        for args in (
            ["seed-demo", "--participants", "40", "--visits", "200", "--months", "2"],
            ["report", "--period", _last_month()],
        ):
            done = subprocess.run(
                [*_ssp_executable(), *args], env=env, capture_output=True, text=True, check=False
            )
            assert done.returncode == 0, done.stdout + done.stderr
        assert "Archived" in done.stdout
    finally:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()


def test_quickstart_refuses_a_bad_database_url_and_writes_nothing(tmp_path):
    result = run(
        ["quickstart", "--no-serve", "--database-url", "mysql://a:b@h/db"],
        SSP_INSTANCE_PATH=str(tmp_path / "instance"),
    )
    line = _one_line_error(result)
    assert "names a 'mysql' database" in line
    assert not (tmp_path / "instance").exists()


def test_quickstart_will_not_change_the_database_of_an_existing_config(tmp_path):
    env = _set_up(tmp_path)
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    line = _one_line_error(run(["quickstart", "--no-serve", "--database-url", other], **env))
    assert "set SQLALCHEMY_DATABASE_URI in it" in line
    assert not (tmp_path / "other.sqlite3").exists()


@pytest.mark.slow
def test_the_readmes_command_line_examples_work_after_quickstart(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = readme.split("<!-- cli-examples -->", 1)[1].split("```sh\n", 1)[1]
    script = block.split("```", 1)[0]
    env = process_environ(**_set_up(tmp_path))
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Created the front desk account 'sam'" in done.stdout
    assert "Created the program manager account 'robin'" in done.stdout
