"""Benchmark: the desk's pages on a phone on a slow network.

    python benchmarks/frontend.py [--runs 5] [--chromium /usr/bin/chromium]

Serves the app (waitress, as `ssp serve`) on a fresh SQLite database with a desk account,
the default catalogue and a participant with a visit, and drives Debian's Chromium through
Playwright at 390 px wide with the network throttled to "slow 4G" (150 ms round trip,
1.6 Mbit/s down, 750 kbit/s up: CDP Network.emulateNetworkConditions) and the CPU slowed
4x (Emulation.setCPUThrottlingRate). Each run starts from an empty browser cache.

For each page, first and return visit: largest contentful paint, when the page takes input
(the deferred scripts have run and the autofocus field has the focus: DOMContentLoaded's
end, or later when the focus moves later), requests over the network, requests served from
the browser's cache, and bytes over the wire. Pages: sign-in (first and return), signing
in up to the search box, a participant, the visit form, the outreach screen; and the
floor, `/healthz` (a few bytes: what the network alone costs a page). Prints the median of
the runs.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "a long benchmark password"  # noqa: S105 (benchmark account)
SLOW_4G = {
    "offline": False,
    "latency": 150,  # ms, round trip
    "downloadThroughput": 1_600_000 / 8,  # bytes/s
    "uploadThroughput": 750_000 / 8,
}
CPU_SLOWDOWN = 4
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]  # fmt: skip

# Collects the largest contentful paint as the page loads (an init script runs before the
# page's own; the CSP does not apply to it).
LCP_OBSERVER = """
window.__lcp = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__lcp = Math.max(window.__lcp, entry.startTime);
}).observe({type: 'largest-contentful-paint', buffered: true});
window.__focusedAt = 0;
document.addEventListener('focusin', () => {
  if (!window.__focusedAt) window.__focusedAt = performance.now();
}, true);
"""
TIMINGS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const auto = document.querySelector('[autofocus]');
  const ready = nav.domContentLoadedEventEnd;
  const focused = auto && document.activeElement === auto && window.__focusedAt;
  const focus = focused ? window.__focusedAt : 0;
  return {lcp: window.__lcp, usable: Math.max(ready, focus), load: nav.loadEventEnd};
}"""


def _prepare(folder: Path):
    from flask_migrate import stamp

    from ssp import create_app, resource_dir
    from ssp.extensions import db
    from ssp.participants.services import enrol
    from ssp.staff import services as staff
    from ssp.supplies.services import load_default_catalogue

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'frontend.sqlite3'}",
            "SECRET_KEY": "frontend-benchmark-secret-key-0123456789",
            "REPORTS_DIR": str(folder / "reports"),
            "REQUIRE_TWO_STEP_ROLES": [],
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        stamp(directory=str(resource_dir("migrations")))
        load_default_catalogue()
        site = staff.create_site(name="Main site")
        staff.create_user(username="desk1", password=PASSWORD, role="front_desk", site_id=site.id)
        person = enrol(code="MAPH0687", site_id=site.id, confirm_distinct=True)
        db.session.commit()
        return app, person.id


def _serve(app):
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=8, ident="ssp-bench")
    threading.Thread(target=server.run, daemon=True).start()
    return server, f"http://127.0.0.1:{server.effective_port}"


class Meter:
    """Counts a page's requests and bytes through the DevTools protocol: over the network,
    or served from the browser's memory or disk cache (data: URLs are neither)."""

    def __init__(self, cdp) -> None:
        self.network = 0
        self.cached = 0
        self.bytes = 0
        self._from_cache: set[str] = set()
        cdp.on("Network.requestServedFromCache", lambda e: self._from_cache.add(e["requestId"]))
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)

    def reset(self) -> None:
        self.network = self.cached = self.bytes = 0

    def _response(self, event) -> None:
        response = event["response"]
        if response["url"].startswith("data:"):
            return
        if event["requestId"] in self._from_cache or response.get("fromDiskCache"):
            self.cached += 1
        else:
            self.network += 1

    def _finished(self, event) -> None:
        if event["requestId"] not in self._from_cache:
            self.bytes += int(event.get("encodedDataLength") or 0)


def _measure(page, meter, action) -> dict:
    meter.reset()
    action()
    page.wait_for_load_state("load")
    # The largest contentful paint is reported a moment after the paint (a page with
    # nothing contentful reports none).
    with contextlib.suppress(Exception):
        page.wait_for_function("() => window.__lcp > 0", timeout=3000)
    page.wait_for_timeout(50)
    figures = page.evaluate(TIMINGS)
    return {**figures, "requests": meter.network, "cached": meter.cached, "bytes": meter.bytes}


def _one_run(browser, url: str, person: int) -> dict[str, dict]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=3)
    context.add_init_script(LCP_OBSERVER)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    cdp.send("Network.emulateNetworkConditions", SLOW_4G)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    meter = Meter(cdp)
    results: dict[str, dict] = {}

    def visit(name: str, path: str) -> None:
        results[name] = _measure(page, meter, lambda: page.goto(url + path))

    visit("floor: /healthz, first", "/healthz")
    visit("sign-in, first visit", "/sign-in")
    visit("sign-in, return visit", "/sign-in")

    def sign_in() -> None:
        page.fill("#username", "desk1")
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.keyboard.press("Enter")

    results["sign-in to the search box"] = _measure(page, meter, sign_in)
    for label, path in (
        ("participant", f"/participants/{person}"),
        ("visit form", f"/participants/{person}/visits/new"),
        ("outreach screen", "/outreach"),
    ):
        visit(f"{label}, first visit", path)
        visit(f"{label}, return visit", path)
    context.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        app, person = _prepare(Path(folder))
        server, url = _serve(app)
        runs = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=ARGS)
            for _ in range(args.runs):
                runs.append(_one_run(browser, url, person))
            browser.close()
        server.close()
    print(
        f"slow 4G (150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up), CPU x{CPU_SLOWDOWN}, "
        f"390 px; median of {args.runs} runs"
    )
    print(f"{'page':36} {'LCP ms':>7} {'usable ms':>9} {'requests':>8} {'cached':>6} {'kB':>6}")
    for name in runs[0]:
        rows = [run[name] for run in runs]

        def median(key: str, rows=rows) -> float:
            return statistics.median(row[key] for row in rows)

        print(
            f"{name:36} {median('lcp'):7.0f} {median('usable'):9.0f} {median('requests'):8.0f}"
            f" {median('cached'):6.0f} {median('bytes') / 1000:6.1f}"
        )


if __name__ == "__main__":
    main()
