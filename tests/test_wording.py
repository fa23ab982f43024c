"""Words that point somewhere point where things are: "**X** in the menu" names an entry
of the menu (templates/base.html), "Admin > X" a tile of the Admin page
(templates/dashboard/_admin_tiles.html), in the README, the code and the command line's
output; and the project refers to no folder beside its own checkout."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.test_cli import run

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = "/".join(("..", "shared")).encode()  # spelt out, this file would hold it


def _labels(template: str, pattern: str) -> set[str]:
    text = (ROOT / "templates" / template).read_text(encoding="utf-8")
    return {re.sub(r"<[^>]+>|\{[%{].*?[%}]\}", "", m).strip() for m in re.findall(pattern, text)}


MENU = {
    label.split(" ")[0] if label.startswith("Follow-ups") else label
    for label in _labels("base.html", r'<li><a href="[^"]*"[^>]*>(.*?)</a></li>')
}
TILES = _labels("dashboard/_admin_tiles.html", r"<strong>(.*?)</strong>")


def _project_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


def _texts():
    """The README, the docs and the command line (what a newcomer reads first)."""
    for path in [ROOT / "README.md", ROOT / "ssp" / "cli.py", *(ROOT / "docs").rglob("*.md")]:
        yield path, path.read_text(encoding="utf-8")


def test_the_menu_and_the_admin_tiles_are_read():
    assert {"Find", "Follow-ups", "Stock", "Reports", "Admin"} <= MENU
    assert {"Staff accounts", "Sites", "Partner directory", "Audit trail"} <= TILES


def test_in_the_menu_names_an_entry_of_the_menu():
    wrong = [
        f"{path.relative_to(ROOT)}: {name}"
        for path, text in _texts()
        for name in re.findall(r"\*\*([^*]+)\*\* in the menu|under (\w+) in the menu", text)
        if (name[0] or name[1]) not in MENU
    ]
    assert wrong == []


def test_admin_places_name_a_tile_of_the_admin_page():
    wrong = [
        f"{path.relative_to(ROOT)}: {name}"
        for path, text in _texts()
        for name in re.findall(r"Admin\*{0,2} > \*{0,2}([A-Z][a-z]+(?: [a-z]+)?)", text)
        if name not in TILES
    ]
    assert wrong == []


def test_the_readme_sends_a_new_admin_to_the_admin_page():
    start = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "under **Staff**" not in start and "under **Sites**" not in start
    assert "**Admin** > **Staff accounts**" in start and "**Admin** > **Sites**" in start


def test_quickstart_and_create_user_say_where_sites_are(tmp_path):
    env = {"SSP_INSTANCE_PATH": str(tmp_path / "instance")}
    started = run(
        ["quickstart", "--no-serve", "--password-stdin"], input="kettle orbit 42x\n", **env
    )
    assert started.exit_code == 0, started.output
    assert "rename it under Admin > Sites" in started.output
    refused = run(["create-user", "sam", "--role", "front_desk", "--site", "Nowhere"], **env)
    assert refused.exit_code == 1 and "an admin adds sites under Admin > Sites." in refused.output
    assert "in the menu" not in started.output + refused.output


def test_nothing_refers_to_a_folder_outside_the_project():
    found = [
        str(path.relative_to(ROOT)) for path in _project_files() if OUTSIDE in path.read_bytes()
    ]
    assert found == []
