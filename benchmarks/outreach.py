"""Benchmark: syncing 500 sealed outreach contacts, and the outreach screen's weight.

    python benchmarks/outreach.py [--database-url URL] [--contacts 500]

Sets up a fresh database (migrations, the default catalogue, a street-team site, a
worker), seals the contacts the way a phone does (ECDH P-256, HKDF, AES-GCM: here with
Python's `cryptography`, the phone uses WebCrypto), then posts them to the real sync
view in batches of 50, as the screen does, and prints the time. Each contact is opened,
checked and recorded through `record_visit` in its own transaction. It also adds up
the bytes of what the screen loads on a first visit (page, script, styles, worker).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    """Prepare, then measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--contacts", type=int, default=500)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.benchapp import migrated_app
    from ssp.extensions import db
    from ssp.outreach import sealing
    from ssp.staff import services as staff
    from ssp.supplies.services import active_catalogue, load_default_catalogue
    from tests.conftest import PASSWORD, Browser

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/outreach.sqlite3"
    app = migrated_app(url)
    with app.app_context():
        load_default_catalogue()
        site = staff.create_site(name=f"Street team {secrets.token_hex(3)}", kind="outreach")
        user = staff.create_user(
            username=f"walker{secrets.token_hex(3)}",
            password=PASSWORD,
            role="front_desk",
            site_id=site.id,
        )
        items = {item.category.value: item.id for item in reversed(active_catalogue())}
        site_id, username = site.id, user.username
        db.session.commit()

    browser = Browser(app.test_client())
    browser.sign_in(username)
    setup = browser.get("/outreach/api/setup").get_json()
    now = dt.datetime.now(dt.UTC)
    envelopes = []
    for n in range(args.contacts):
        contact = {
            "code": None if n % 3 else f"FIELD{n:05d}",
            "anonymous": bool(n % 3),
            "people": 1 if n % 3 != 1 else 3,
            "site_id": site_id,
            "zone_id": None,
            "occurred_at": (now - dt.timedelta(minutes=n)).isoformat(),
            "items": {str(items["syringe"]): 10, str(items["test_strip"]): 2},
            "reasons": {},
            "collected": n % 7,
            "others": 0,
        }
        envelopes.append(
            sealing.seal(
                contact,
                kid=setup["key"]["kid"],
                public=setup["key"]["jwk"],
                user_id=setup["user_id"],
                submission_key=secrets.token_hex(16),
            ).as_json()
        )

    started = time.perf_counter()
    statuses: dict[str, int] = {}
    for start in range(0, len(envelopes), 50):
        response = browser.client.post(
            "/outreach/api/sync",
            data=json.dumps({"contacts": envelopes[start : start + 50]}),
            content_type="application/json",
            headers={"X-CSRFToken": setup["csrf_token"]},
        )
        for result in response.get_json()["results"]:
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    elapsed = time.perf_counter() - started
    print(
        f"[{url.split(':')[0]}] sync of {len(envelopes)} sealed contacts: {elapsed:.2f} s "
        f"({elapsed / len(envelopes) * 1000:.1f} ms each); {statuses}"
    )

    total = 0
    for path in (
        "/outreach/",
        "/static/js/outreach.js",
        "/static/js/outreach-seal.js",
        "/static/js/codebuilder.js",
        "/static/js/session.js",
        "/static/css/app.css",
        "/outreach/sw.js",
        "/outreach/api/setup",
    ):
        body = browser.get(path).get_data()
        total += len(body)
    print(
        "outreach screen, first load (page, scripts, styles, worker, setup): "
        f"{total / 1024:.1f} kB uncompressed"
    )


if __name__ == "__main__":
    main()
