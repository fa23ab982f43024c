"""`ssp export`: the same export as the page, written to a file and audited with no
account; bad input is one line and writes nothing; --help needs no configuration."""

from __future__ import annotations

import datetime as dt
import hashlib
import os

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from ssp.audit import AuditEvent
from ssp.cli import main
from ssp.extensions import db
from tests.evaluation.conftest import (
    CANARY,
    PURPOSE,
    RECIPIENT,
    assert_k_anonymous,
    read_export,
)
from tests.test_cli import _clean_environ


def _events(app):
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "evaluation_export_made")
            )
        )


def _export(app, *args):
    return app.test_cli_runner().invoke(
        args=["export", "--purpose", PURPOSE, "--recipient", RECIPIENT, *args]
    )


def test_the_command_writes_the_zip_and_audits_it(app, evaluation_program, tmp_path):
    out = tmp_path / "out" / "export.zip"
    out.parent.mkdir()
    result = _export(
        app, "--period", "2026-10", "--sites", "site", "--attribute", "gender", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert (
        f"(sha256 {digest}): 22 rows (11 people, 3 anonymous visits); k = 3, 22 rows "
        "coarsened, 1 left out."
    ) in result.output
    export = read_export(data)
    assert_k_anonymous(export.rows, 3)
    assert export.metadata["steps"] == ["Sites merged into their kinds"]
    [event] = _events(app)
    assert event.user_id is None
    assert (event.detail["sha256"], event.detail["purpose"], event.detail["recipient"]) == (
        digest,
        PURPOSE,
        RECIPIENT,
    )
    for text in export.texts:
        assert f"{CANARY}0" not in text and f"{CANARY.lower()}staff" not in text


def test_dates_person_months_and_parquet(app, evaluation_program, tmp_path):
    out = tmp_path / "months.zip"
    result = _export(
        app,
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
        "--per",
        "person-month",
        "--format",
        "parquet",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    export = read_export(out.read_bytes())
    assert len(export.rows) == 12 and {r["period"] for r in export.rows} == {"2026-10"}
    assert "data.parquet" in export.members
    assert _events(app)[0].detail["unit"] == "person_month"


def test_bad_input_is_one_line_and_writes_nothing(app, evaluation_program, tmp_path):
    out = tmp_path / "never.zip"
    cases = [
        (["--from", "2026-10-20", "--to", "2026-10-01"], "The first day is after the last day."),
        (["--from", "20-10-2026", "--to", "2026-10-01"], "--from takes a day as YYYY-MM-DD"),
        (["--period", "FY2027"], "Choose a month, a quarter or a calendar year"),
        (["--period", "2026-10", "--per", "person-month", "--dates", "week"], "whole months"),
        (["--period", "2026-10", "--recipient", "  "], "Say who receives the data."),
        (["--period", "2026-10", "--purpose", "a\x07b"], "Remove the control characters"),
    ]
    for args, message in cases:
        result = _export(app, *args, "--out", str(out))
        assert result.exit_code in (1, 2), (args, result.output)
        assert message in result.output, (args, result.output)
        assert not out.exists()
    missing = app.test_cli_runner().invoke(args=["export", "--period", "2026-10"])
    assert missing.exit_code == 2 and "--purpose" in missing.output
    nowhere = _export(app, "--period", "2026-10", "--out", str(tmp_path / "no" / "x.zip"))
    assert nowhere.exit_code == 1 and "does not exist" in nowhere.output
    assert _events(app) == []


def test_help_works_on_a_machine_without_a_config(tmp_path):
    result = CliRunner().invoke(
        main,
        ["export", "--help"],
        env=_clean_environ(SSP_INSTANCE_PATH=str(tmp_path / "nowhere")),
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and "--recipient" in result.output
    assert "SECRET_KEY" not in result.output


@pytest.mark.parametrize(
    ("people", "walk_ins"),
    [
        (1, 10),  # the review's case: "11 rows, 1 people; k = 11, 0 left out"
        (9, 3),  # the demo's third quarter: 9 people and 3 walk-ins passed as 12
    ],
)
def test_walk_ins_never_make_up_a_group_of_k_people(app, factory, tmp_path, people, walk_ins):
    app.config["VISIT_BACKDATE_DAYS"] = 100_000
    app.config["EXPORT_MIN_GROUP_SIZE"] = 11
    site = factory.site("Harbor")
    user = factory.user("desk", "manager", site_id=site)
    item = factory.supply_item()
    when = dt.datetime(2026, 3, 10, 18, tzinfo=dt.UTC)
    for number in range(people):
        person = factory.participant(f"WALK{number:04d}", birth_year=1990, gender="woman")
        factory.visit(
            person,
            user_id=user,
            site_id=site,
            occurred_at=when,
            items={item: 100},
            services={"hiv_test": 1},
        )
    for _ in range(walk_ins):
        factory.visit(None, user_id=user, site_id=site, occurred_at=when, items={item: 10})
    out = tmp_path / "march.zip"
    result = _export(
        app,
        "--period",
        "2026-03",
        "--attribute",
        "age_band",
        "--attribute",
        "gender",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    rows = people + walk_ins
    # Every step is taken and the coded people are still fewer than 11, the walk-ins too:
    # all are left out, rather than the coded rows standing out among anonymous ones.
    assert f"0 rows (0 people, 0 anonymous visits); k = 11, 0 rows coarsened, {rows} left out." in (
        result.output
    )
    export = read_export(out.read_bytes())
    assert export.rows == [] and export.metadata["rows_left_out"] == rows
    assert export.metadata["anonymous_rows_left_out"] == walk_ins
    assert (
        f"rows left out (still in a group smaller than 11): {rows} ({walk_ins} of them "
        "anonymous visits)" in export.readme
    )


def test_an_out_that_is_not_a_regular_file_is_refused(app, evaluation_program, tmp_path):
    fifo = tmp_path / "pipe.zip"
    os.mkfifo(fifo)
    target = tmp_path / "real.zip"
    target.write_bytes(b"earlier")
    link = tmp_path / "link.zip"
    link.symlink_to(target)
    for out in (fifo, link):
        result = _export(app, "--period", "2026-10", "--out", str(out))
        assert result.exit_code == 1, result.output
        assert result.output.strip().splitlines() == [
            f"Error: {out} exists and is not a regular file: give the path of a new file or "
            "of an earlier export."
        ]
    assert fifo.is_fifo() and link.is_symlink() and target.read_bytes() == b"earlier"
    folder = _export(app, "--period", "2026-10", "--out", str(tmp_path))
    assert folder.exit_code == 2 and "is a directory" in folder.output
    assert _events(app) == []
    # An earlier export (a regular file) is replaced as before.
    again = _export(app, "--period", "2026-10", "--out", str(target))
    assert again.exit_code == 0, again.output
    assert read_export(target.read_bytes()).metadata["rows"] == 23  # no attribute asked
