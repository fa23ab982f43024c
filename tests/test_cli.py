"""The ``ssp`` command line: quickstart, create-user, db upgrade and serve, with bad input."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, inspect, select, text

from ssp.cli import main
from ssp.config import normalise_database_uri
from ssp.extensions import db
from ssp.staff.models import Site, User
from ssp.supplies.catalogue import DEFAULT_CATALOGUE
from tests.conftest import PASSWORD, SECRET, who

FAST = {
    "SSP_PASSWORD_HASH_TIME_COST": "1",
    "SSP_PASSWORD_HASH_MEMORY_KIB": "8",
    "SSP_PASSWORD_HASH_PARALLELISM": "1",
}


#: The commands speak the language of SSP_LANGUAGE, else LANG and the like: these tests
#: read their English, whatever the machine's locale.
ENGLISH = {"SSP_LANGUAGE": "en"}


def _clean_environ(**extra: str) -> dict[str, str | None]:
    """The environment for a CLI run: no SSP_* from the developer's shell, English, plus
    ``extra``."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SSP_")}
    env.update(ENGLISH)
    env.update(extra)
    return env


def process_environ(**extra: str) -> dict[str, str]:
    """The environment for an ``ssp`` process: this one's without any SSP_*, English, plus
    ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSP_")}
    env.update(ENGLISH)
    env.update(extra)
    return env


def run(args: list[str], *, input: str | None = None, **env: str):
    """Invoke ``ssp`` in-process and return click's result."""
    return CliRunner().invoke(
        main, args, input=input, env=_clean_environ(**env), catch_exceptions=False
    )


# --- quickstart ---------------------------------------------------------------------


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()  # noqa: S608
                for t in ("users", "sites", "supply_items")
            }
    finally:
        engine.dispose()


def test_quickstart_sets_everything_up_and_keeps_it_on_a_second_run(tmp_path):
    instance = tmp_path / "instance"
    result = run(
        ["quickstart", "--no-serve", "--password-stdin"],
        input="kettle orbit velvet 42\n",
        SSP_INSTANCE_PATH=str(instance),
        **FAST,
    )
    assert result.exit_code == 0, result.output
    config = (instance / "config.py").read_text()
    secret = re.search(r"SECRET_KEY = '([0-9a-f]{64})'", config).group(1)
    assert oct((instance / "config.py").stat().st_mode)[-3:] == "600"
    url = f"sqlite:///{instance / 'ssp.sqlite3'}"
    assert _counts(url) == {"users": 1, "sites": 1, "supply_items": len(DEFAULT_CATALOGUE)}
    assert "kettle orbit velvet 42" not in result.output  # read from stdin: not echoed back

    again = run(["quickstart", "--no-serve"], SSP_INSTANCE_PATH=str(instance), **FAST)
    assert again.exit_code == 0, again.output
    assert "Keeping the existing administrator account 'admin'" in again.output
    assert secret in (instance / "config.py").read_text()
    assert _counts(url) == {"users": 1, "sites": 1, "supply_items": len(DEFAULT_CATALOGUE)}


def test_a_report_from_the_command_line_loads_no_pages(tmp_path):
    """`ssp report` (a cron job) builds the app without its views, Alembic or the rate
    limiter: they cost a fresh process about a quarter of a second."""
    instance = tmp_path / "instance"
    ready = run(["quickstart", "--no-serve"], SSP_INSTANCE_PATH=str(instance), **FAST)
    assert ready.exit_code == 0, ready.output
    script = (
        "import sys\n"
        "from ssp.cli import main\n"
        "try:\n"
        "    main(['report', '--period', '2026-10'])\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        "heavy = ('ssp.visits.views', 'ssp.participants.views', 'ssp.staff.views',\n"
        "         'ssp.reporting.views', 'ssp.dashboard.views', 'alembic', 'flask_limiter')\n"
        "print('LOADED', [m for m in heavy if m in sys.modules])\n"
    )
    result = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", script],
        env=process_environ(SSP_INSTANCE_PATH=str(instance)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Archived " in result.stdout
    assert "LOADED []" in result.stdout, result.stdout


@pytest.mark.parametrize(
    "command",
    [["close-stale-follow-ups"], ["report", "--period", "2026-10"], ["db", "current"]],
    ids=" ".join,
)
def test_a_bad_feature_setting_stops_every_command_in_one_line(tmp_path, command):
    """The commands build the app without its pages; its settings are checked all the
    same (FOLLOW_UP_CLOSE_AFTER_DAYS was checked when the referrals' pages registered)."""
    instance = tmp_path / "instance"
    ready = run(["quickstart", "--no-serve"], SSP_INSTANCE_PATH=str(instance), **FAST)
    assert ready.exit_code == 0, ready.output
    result = CliRunner().invoke(
        main,
        command,
        env=_clean_environ(SSP_INSTANCE_PATH=str(instance), SSP_FOLLOW_UP_CLOSE_AFTER_DAYS="sixty"),
    )
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.output.startswith("Error: FOLLOW_UP_CLOSE_AFTER_DAYS"), result.output
    assert "Traceback" not in result.output


def test_quickstart_prints_a_generated_password_once(tmp_path):
    instance = tmp_path / "instance"
    result = run(["quickstart", "--no-serve"], SSP_INSTANCE_PATH=str(instance), **FAST)
    assert result.exit_code == 0, result.output
    match = re.search(r"shown only this once \(keep it safe\): (\S+)", result.output)
    assert match and len(match.group(1)) >= 12


def test_quickstart_refuses_a_short_password_and_writes_nothing(tmp_path):
    instance = tmp_path / "instance"
    result = run(
        ["quickstart", "--no-serve", "--password-stdin"],
        input="short\n",
        SSP_INSTANCE_PATH=str(instance),
        **FAST,
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: Admin password refused: Use at least 12 characters."
    ]
    assert not instance.exists()


def test_quickstart_rejects_a_bad_port(tmp_path):
    result = run(["quickstart", "--port", "99999"], SSP_INSTANCE_PATH=str(tmp_path / "i"))
    assert result.exit_code == 2
    assert "99999 is not in the range" in result.output
    assert not (tmp_path / "i").exists()


# --- create-user --------------------------------------------------------------------


@pytest.fixture
def cli_env(app) -> dict[str, str]:
    """Environment that points the CLI at this test's database."""
    return {
        "SSP_SECRET_KEY": SECRET,
        "SSP_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        **FAST,
    }


def test_create_user_with_password_from_stdin(app, cli_env, factory, browser):
    factory.site("Van 2", "mobile")
    result = run(
        ["create-user", "Outreach1", "--role", "front_desk", "--site", "van 2", "--password-stdin"],
        input=PASSWORD + "\n",
        **cli_env,
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Created the front desk account 'outreach1'"
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "outreach1"))
        assert user.role.value == "front_desk" and user.site.name == "Van 2"
    assert browser.sign_in("outreach1").status_code == 200


def test_quickstarts_printed_password_must_be_changed_at_first_sign_in(tmp_path):
    instance = tmp_path / "instance"
    result = run(["quickstart", "--no-serve"], SSP_INSTANCE_PATH=str(instance), **FAST)
    assert result.exit_code == 0, result.output
    from ssp import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'ssp.sqlite3'}",
            "SECRET_KEY": SECRET,
        }
    )
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        assert admin.must_change_password


def test_reset_password_prints_a_new_one_that_must_be_changed(app, cli_env, factory):
    factory.user("boss", "admin")
    result = run(["reset-password", "boss"], **cli_env)
    assert result.exit_code == 0, result.output
    password = re.search(r"shown only this once: (\S{12,})", result.output).group(1)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "boss"))
        assert user.must_change_password
        from ssp.security import verify_password

        assert verify_password(user.password_hash, password)
    unknown = run(["reset-password", "nobody"], **cli_env)
    assert unknown.exit_code == 1 and "There is no account called 'nobody'." in unknown.output


def test_a_command_speaks_ssp_language_then_lang(app, cli_env, factory):
    """A command speaks SSP_LANGUAGE, else LANG, else the LANGUAGE setting."""
    spanish = "Error: No hay ninguna cuenta llamada 'nobody'."
    english = "Error: There is no account called 'nobody'."
    result = run(["reset-password", "nobody"], **{**cli_env, "SSP_LANGUAGE": "es"})
    assert result.exit_code == 1 and spanish in result.output
    # Without SSP_LANGUAGE, the usual locale variables: LANGUAGE before LANG.
    for env, says in (
        ({"LANG": "es_MX.UTF-8"}, spanish),
        ({"LANGUAGE": "en", "LANG": "es_MX.UTF-8"}, english),
        ({"LANG": "C.UTF-8"}, english),
    ):
        result = run(
            ["reset-password", "nobody"],
            **{
                **cli_env,
                "SSP_LANGUAGE": None,
                "LANGUAGE": None,
                "LC_ALL": None,
                "LC_MESSAGES": None,
                **env,
            },
        )
        assert result.exit_code == 1 and says in result.output, env


def test_a_report_with_no_profiles_says_how_to_make_them(app, cli_env):
    result = run(["report", "--period", "2026-10"], **cli_env)
    assert result.exit_code == 1
    assert "ssp quickstart --no-serve" in result.output


@pytest.mark.parametrize("command", ["report", "seed-demo", "serve", "reset-password", "backup"])
def test_help_works_on_a_machine_without_a_config(tmp_path, command):
    result = run([command, "--help"], SSP_INSTANCE_PATH=str(tmp_path / "nowhere"))
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and "SECRET_KEY" not in result.output


def test_create_user_prints_a_generated_password(app, cli_env):
    result = run(["create-user", "boss", "--role", "manager"], **cli_env)
    assert result.exit_code == 0, result.output
    assert re.search(r"shown only this once: \S{12,}", result.output)


@pytest.mark.parametrize(
    ("args", "stdin", "code", "message"),
    [
        (["create-user", "x1y", "--role", "boss"], None, 2, "'boss' is not one of"),
        (
            ["create-user", "newuser", "--role", "manager", "--site", "Nowhere"],
            None,
            1,
            "Error: No site in use is called 'Nowhere' (sites in use: none yet); an admin "
            "adds sites under Admin > Sites.",
        ),
        (
            ["create-user", "admin1", "--role", "manager"],
            None,
            1,
            "Error: The username 'admin1' is taken.",
        ),
        (
            ["create-user", "newuser", "--role", "manager", "--password-stdin"],
            "short\n",
            1,
            "Error: Use at least 12 characters.",
        ),
        (
            ["create-user", "newuser", "--role", "manager", "--password-stdin"],
            "",
            1,
            "Error: No password on standard input.",
        ),
        (["create-user", "no spaces", "--role", "manager"], None, 1, "Error: Usernames are"),
        (["create-user", "--role", "manager"], None, 2, "Missing argument 'USERNAME'"),
    ],
)
def test_create_user_bad_input_exits_non_zero_and_writes_nothing(
    app, cli_env, factory, args, stdin, code, message
):
    factory.user("admin1", "admin")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(User))
    result = run(args, input=stdin, **cli_env)
    assert result.exit_code == code
    assert message in result.output
    assert result.output.strip().splitlines()[-1].startswith("Error:")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_commands_refuse_to_run_without_a_secret_key(tmp_path):
    result = run(["create-user", "someone", "--role", "admin"], SSP_INSTANCE_PATH=str(tmp_path))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: SECRET_KEY is not set")


# --- db upgrade ---------------------------------------------------------------------


def test_db_upgrade_creates_the_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    result = run(["db", "upgrade"], SSP_SECRET_KEY=SECRET, SSP_SQLALCHEMY_DATABASE_URI=url)
    assert result.exit_code == 0, result.output
    engine = create_engine(normalise_database_uri(url))
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"users", "sites", "supply_items", "audit_events", "alembic_version"} <= tables


# --- serving ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ssp_executable() -> list[str]:
    script = Path(sys.executable).with_name("ssp")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ssp.cli"]


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer in {seconds} s")


def _sign_in_over_http(base: str, username: str, password: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/sign-in").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"csrf_token": token, "username": username, "password": password}
    ).encode()
    return opener.open(base + "/sign-in", data).read().decode()


@pytest.mark.slow
def test_quickstart_serves_and_the_admin_can_sign_in(tmp_path):
    port = _free_port()
    env = process_environ(SSP_INSTANCE_PATH=str(tmp_path / "instance"), **FAST)
    process = subprocess.Popen(
        [*_ssp_executable(), "quickstart", "--password-stdin", "--port", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        process.stdin.write("kettle orbit velvet 42\n")
        process.stdin.close()
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/healthz", process)
        page = _sign_in_over_http(base, "admin", "kettle orbit velvet 42")
        assert who("admin") in page
    finally:
        process.terminate()
        process.wait(timeout=10)
        output = process.stdout.read()
        process.stdout.close()
    assert f"ssp is serving on http://127.0.0.1:{port}/" in output


@pytest.mark.slow
def test_serve_runs_waitress_on_the_configured_database(tmp_path):
    instance = tmp_path / "instance"
    assert (
        run(
            ["quickstart", "--no-serve", "--password-stdin"],
            input="kettle orbit velvet 42\n",
            SSP_INSTANCE_PATH=str(instance),
            **FAST,
        ).exit_code
        == 0
    )
    port = _free_port()
    env = process_environ(SSP_INSTANCE_PATH=str(instance), **FAST)
    process = subprocess.Popen(
        [*_ssp_executable(), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/healthz", process)
        with urllib.request.urlopen(base + "/sign-in") as response:  # noqa: S310
            assert response.headers["Server"] == "ssp"
        assert who("admin") in _sign_in_over_http(base, "admin", "kettle orbit velvet 42")
    finally:
        process.terminate()
        process.communicate(timeout=10)
    _ = Site  # the models are imported for their tables
