"""The anonymous code: normalisation, validation, the one-edit rule, the scheme, the builder."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ssp.participants.codes import (
    DEFAULT_SCHEME,
    CodeError,
    check_scheme,
    normalise_code,
    one_edit_variants,
    validated_code,
    within_one_edit,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("maph0687", "MAPH0687"),
        ("  MA-PH 06-87 ", "MAPH0687"),
        ("ma_ph.06/87", "MAPH0687"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise(raw, expected):
    assert normalise_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter the participant's code."),
        ("MA!PH0687", "only letters A to Z and digits"),
        ("MAPHÉ687", "only letters A to Z and digits"),
        ("ABC", "4 to 20"),
        ("A" * 21, "4 to 20"),
        ("<script>", "only letters A to Z and digits"),
    ],
)
def test_malformed_codes_are_refused(raw, message):
    with pytest.raises(CodeError, match=message):
        validated_code(raw)


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [
        ("MAPH0687", "MAPH0687", True),
        ("MAPH0687", "MAPH0688", True),  # substitution
        ("MAPH0687", "MAPH06877", True),  # insertion
        ("MAPH0687", "MAPH087", True),  # deletion
        ("MAPH0687", "MAPH0678", True),  # swap of neighbours
        ("MAPH0687", "AMPH0687", True),  # swap at the start
        ("MAPH0687", "MAPH0768", False),  # two edits
        ("MAPH0687", "JOSE0687", False),
    ],
)
def test_one_edit_rule(a, b, close):
    assert within_one_edit(a, b) is close
    assert within_one_edit(b, a) is close


def test_variants_are_bounded_and_exclude_the_code():
    variants = one_edit_variants("MAPH0687")
    assert "MAPH0687" not in variants
    # 8 deletions, 9*36 insertions, 8*35 substitutions, 7 swaps, less duplicates
    assert 550 < len(variants) < 630


def test_scheme_checks():
    assert [p["kind"] for p in check_scheme(DEFAULT_SCHEME)] == [
        "letters",
        "letters",
        "day",
        "year",
    ]
    with pytest.raises(ValueError, match="kind must be one of"):
        check_scheme([{"label": "Gender", "kind": "gender"}])
    with pytest.raises(ValueError, match="needs a label"):
        check_scheme([{"kind": "letters"}])
    with pytest.raises(ValueError, match="at least one part"):
        check_scheme([])


def test_a_bad_scheme_stops_the_app(tmp_path):
    from ssp import create_app
    from ssp.config import ConfigError
    from tests.conftest import app_config

    with pytest.raises(ConfigError, match="kind must be one of"):
        create_app(app_config(tmp_path, PARTICIPANT_CODE_SCHEME=[{"label": "G", "kind": "gender"}]))


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="Node.js runs the browser code builder's logic")
@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["Maria", "Philadelphia", "6", "1987"], "MAPH0687"),
        (["José", "Ñuñoa", "06", "2001"], "JONU0601"),
        (["A", "Los Angeles", "31", "1970"], "AXLO3170"),
        (["Maria", "Philadelphia", "32", "1987"], ""),  # no such day: no code yet
        (["Maria", "Philadelphia", "6", "87"], ""),  # year needs four digits
        (["", "Philadelphia", "6", "1987"], ""),
    ],
)
def test_browser_code_builder(answers, expected):
    parts = [
        {"kind": part["kind"], "take": part["take"], "answer": answer}
        for part, answer in zip(check_scheme(DEFAULT_SCHEME), answers, strict=True)
    ]
    script = (
        f"const b = require({json.dumps(str(ROOT / 'ssp/static/js/codebuilder.js'))});"
        f"process.stdout.write(b.build({json.dumps(parts)}));"
    )
    result = subprocess.run(
        [NODE, "-e", script], capture_output=True, text=True, check=True, timeout=30
    )
    assert result.stdout == expected
