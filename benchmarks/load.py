"""Benchmark: visit logging under load, against the floor of a bare insert.

    python benchmarks/load.py [--database-url URL] [--clients 16] [--seconds 30]
                              [--pace 1.0]

Uses the million-visit database of benchmarks/report.py (run that first). Serves the app
with `ssp serve` (waitress, its default 8 threads) and, when installed, gunicorn with 2
worker processes; 16 client threads on loopback sign in as 16 desks and post visits for
30 s, each with its own keep-alive connection, each posting again as soon as it has its
answer. Beside it, the floor: a minimal Flask app under waitress that inserts the same
rows (visit, item, stock movement) in one raw SQL transaction per request. Prints
throughput, p50/p95/p99 latency and errors, and the ratio to the floor.

Then a paced run: the same 16 desks on `ssp serve`, each posting once every ``--pace``
seconds (16 visits a second at 1.0, far beyond the busiest program), which shows the
wait a person at the desk sees when the server is not saturated.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from ssp.config import normalise_database_uri  # noqa: E402

DEFAULT = "sqlite:////tmp/ssp-bench/bench.sqlite3"
PASSWORD = "a long benchmark password"  # noqa: S105 (benchmark accounts)

FLOOR_APP = """
import datetime as dt, os
from flask import Flask
from sqlalchemy import create_engine, text
import ssp.database  # the same SQLite connection settings as the app
engine = create_engine(os.environ["FLOOR_URL"])
app = Flask("floor")

@app.post("/visit")
def visit():
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with engine.begin() as c:
        vid = c.execute(text(
            "INSERT INTO visits (participant_id, site_id, user_id, occurred_at, kind,"
            " secondary_reach, syringes_collected, created_at) VALUES"
            " (1, 1, 1, :t, 'fixed', 0, 0, :t) RETURNING id"), {"t": now}).scalar()
        c.execute(text("INSERT INTO visit_items (visit_id, supply_item_id, quantity)"
                       " VALUES (:v, 1, 1)"), {"v": vid})
        c.execute(text("INSERT INTO stock_movements (site_id, supply_item_id, delta, reason,"
                       " visit_id, user_id, occurred_at) VALUES (1, 1, -1, 'distribution',"
                       " :v, 1, :t)"), {"v": vid, "t": now})
    return "", 303, {"Location": "/"}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server did not start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not answer")


class Desk:
    """One client: a keep-alive connection, a session cookie, a CSRF token."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""

    def request(self, method: str, path: str, form: dict | None = None, keep_cookie=True):
        body = urllib.parse.urlencode(form) if form is not None else None
        headers = {"Cookie": self.cookie}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body, headers)
        response = self.connection.getresponse()
        data = response.read().decode(errors="replace")
        for name, value in response.getheaders():
            if keep_cookie and name.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, data

    def sign_in(self, username: str) -> dict:
        _, page = self.request("GET", "/sign-in")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        status, _ = self.request(
            "POST", "/sign-in", {"csrf_token": token, "username": username, "password": PASSWORD}
        )
        assert status == 302, status
        _, page = self.request("GET", "/participants/1/visits/new")
        fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
        return {
            "csrf_token": fields["csrf_token"],
            "occurred_at": fields["occurred_at"],
            "site_id": "1",
            "kind": "fixed",
            "item_1": "1",
        }


def _run_clients(port: int, clients: int, seconds: float, app: bool, pace: float = 0) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    desks = [Desk(port) for _ in range(clients)]
    forms = [desk.sign_in(f"bench.desk{n}") if app else {} for n, desk in enumerate(desks)]
    start_line = threading.Barrier(clients)
    deadline = [0.0]

    def work(desk: Desk, form: dict) -> None:
        # Signing 16 desks in takes seconds (argon2); a server may close a keep-alive
        # connection idle that long, so each desk starts on a fresh one.
        desk.connection.close()
        if app:  # one unmeasured post per desk: a server in use has its caches warm
            desk.request("POST", "/participants/1/visits/new", {**form}, keep_cookie=False)
        start_line.wait()
        mine = []
        if pace:
            # Desks do not all post at the same instant (not security: a benchmark).
            time.sleep(random.uniform(0, pace))  # noqa: S311
        while time.monotonic() < deadline[0]:
            started = time.perf_counter()
            try:
                path = "/participants/1/visits/new" if app else "/visit"
                # The signed-in cookie is reused: a browser follows the redirect and shows
                # the "Visit saved" flash, but unfollowed flashes would pile up in the cookie.
                key = uuid.uuid4().hex
                status, _ = desk.request(
                    "POST", path, {**form, "submission_key": key}, keep_cookie=False
                )
                ok = status == 303
            except (OSError, http.client.HTTPException):
                desk.connection.close()  # the next request opens a new connection
                ok = False
            took = time.perf_counter() - started
            mine.append(took)
            if not ok:
                with lock:
                    errors[0] += 1
            if pace:
                time.sleep(max(0.0, pace - took))
        with lock:
            latencies.extend(mine)

    deadline[0] = time.monotonic() + seconds + 0.5
    threads = [
        threading.Thread(target=work, args=(d, f)) for d, f in zip(desks, forms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()

    def pct(share: float) -> float:
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "per_second": len(latencies) / seconds,
        "p50": pct(0.50),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "errors": errors[0],
        "median": statistics.median(latencies) * 1000,
    }


def _prepare(url: str, clients: int) -> None:
    from ssp import create_app
    from ssp.extensions import db
    from ssp.staff import services as staff

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "x" * 32,
            "TESTING": True,
            "PASSWORD_HASH_MEMORY_KIB": 8,
            "PASSWORD_HASH_TIME_COST": 1,
            "PASSWORD_HASH_PARALLELISM": 1,
        }
    )
    with app.app_context():
        for n in range(clients):
            if staff.user_by_username(f"bench.desk{n}") is None:
                staff.create_user(
                    username=f"bench.desk{n}", password=PASSWORD, role="front_desk", site_id=1
                )
        db.session.commit()
        db.engine.dispose()


def _serve(command: list[str], env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(  # noqa: S603 (our own server commands)
        command,
        env=env,
        stdout=subprocess.DEVNULL,  # noqa: S603
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    _wait(port, process)
    return process


def main() -> None:
    """Serve, load, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument(
        "--pace", type=float, default=1.0, help="seconds between a desk's posts in the paced run"
    )
    args = parser.parse_args()
    _prepare(args.database_url, args.clients)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSP_")}
    env.update(
        SSP_SECRET_KEY="benchmark-secret-key-0123456789",  # noqa: S106
        SSP_SQLALCHEMY_DATABASE_URI=args.database_url,
        SSP_SIGN_IN_RATE_LIMIT="10000 per minute",
        FLOOR_URL=normalise_database_uri(args.database_url),  # psycopg 3 for postgresql://
        PYTHONPATH=str(ROOT),
    )
    ssp = str(Path(sys.executable).with_name("ssp"))
    floor_file = Path("/tmp/ssp-bench/floor_app.py")  # noqa: S108 (a scratch benchmark)
    floor_file.parent.mkdir(parents=True, exist_ok=True)
    floor_file.write_text(FLOOR_APP)
    runs = []
    port = _free_port()
    runs.append(
        (
            "floor (bare insert, waitress)",
            [
                sys.executable,
                "-m",
                "waitress",
                "--threads=8",
                f"--port={port}",
                "--host=127.0.0.1",
                "floor_app:app",
            ],
            port,
            False,
            {"PYTHONPATH": f"{floor_file.parent}:{ROOT}"},
        )
    )
    port = _free_port()
    runs.append(
        (
            "ssp serve (waitress, 8 threads)",
            [ssp, "serve", "--port", str(port)],
            port,
            True,
            {},
        )
    )
    gunicorn = shutil.which("gunicorn") or str(Path(sys.executable).with_name("gunicorn"))
    if Path(gunicorn).exists():
        port = _free_port()
        runs.append(
            (
                "gunicorn, 2 workers x 8 threads",
                [
                    gunicorn,
                    "-w",
                    "2",
                    "-k",
                    "gthread",
                    "--threads",
                    "8",
                    "-b",
                    f"127.0.0.1:{port}",
                    "ssp:create_app()",
                ],
                port,
                True,
                {},
            )
        )
    port = _free_port()
    paced = (
        f"ssp serve, paced: each desk every {args.pace:g} s",
        [ssp, "serve", "--port", str(port)],
        port,
        True,
        {},
    )
    results = {}
    for name, command, port, is_app, extra in [*runs, paced]:
        process = _serve(command, {**env, **extra}, port)
        try:
            pace = args.pace if name == paced[0] else 0
            results[name] = _run_clients(port, args.clients, args.seconds, is_app, pace)
        finally:
            process.terminate()
            process.wait(timeout=20)
    floor = results["floor (bare insert, waitress)"]["per_second"]
    print(f"{args.clients} clients for {args.seconds:.0f} s on {args.database_url}")
    for name, r in results.items():
        ratio = "" if name == paced[0] else f"  ({r['per_second'] / floor:.0%} of the floor)"
        print(
            f"  {name:40} {r['per_second']:7.1f} visits/s  p50 {r['p50']:6.1f} ms  "
            f"p95 {r['p95']:6.1f} ms  p99 {r['p99']:6.1f} ms  errors {r['errors']}{ratio}"
        )


if __name__ == "__main__":
    main()
