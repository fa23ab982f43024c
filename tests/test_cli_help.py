"""`--help` works for every command before any configuration exists (no secret key, no
config file, no database), and `ssp --help` lists every command the app has."""

from __future__ import annotations

import click
import pytest

from ssp.cli import main
from tests.test_cli import run


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and subcommand under ``group``, as the words that reach it."""
    ctx = click.Context(group)
    paths = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths.extend(_command_paths(command, (*prefix, name)))
    return paths


COMMANDS = _command_paths(main)


def test_the_walk_finds_the_groups_and_their_subcommands():
    assert {("db",), ("db", "upgrade"), ("outreach",), ("outreach", "rotate-key")} <= set(COMMANDS)
    assert ("audit", "verify") in COMMANDS and ("quickstart",) in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_commands_help_works_without_a_config(tmp_path, path):
    result = run([*path, "--help"], SSP_INSTANCE_PATH=str(tmp_path / "nothing-here"))
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output and "SECRET_KEY" not in result.output
    assert not (tmp_path / "nothing-here").exists()


def test_the_top_help_lists_every_command_without_a_config(tmp_path):
    result = run(["--help"], SSP_INSTANCE_PATH=str(tmp_path / "nothing-here"))
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:", 1)[1]
    for name in ("db", "outreach", "quickstart", "serve", "report", "audit"):
        assert f"\n  {name} " in listed, name
    # No commands from other packages' entry points (Flask-Limiter's "limiter").
    assert "\n  limiter " not in listed
    assert "SECRET_KEY" not in result.output


def test_every_command_of_the_app_is_on_the_command_line_itself(app):
    """A command only the app registers needs the app (and its secret key) to be found,
    so its --help fails without a config: each must be on `main` too."""
    assert set(app.cli.commands) <= set(main.commands), set(app.cli.commands) - set(main.commands)


def test_the_command_app_keeps_its_own_db_group_when_migrations_load(tmp_path):
    """Flask-Migrate adds its own `db` group when bound; ssp's (which also loads the
    reference data after an upgrade) stays, however late the binding comes."""
    from ssp import create_app, register_migrations
    from ssp.cli import LazyDatabaseGroup
    from tests.conftest import app_config

    app = create_app(app_config(tmp_path), views=False)
    assert "migrate" not in app.extensions
    register_migrations(app)
    assert "migrate" in app.extensions
    assert isinstance(app.cli.commands["db"], LazyDatabaseGroup)
