"""The drug-checking tests read the commands' English, whatever the machine's locale (a
command speaks SSP_LANGUAGE, else LANG and the like)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _commands_speak_english(monkeypatch):
    monkeypatch.setenv("SSP_LANGUAGE", "en")
