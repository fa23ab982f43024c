"""What every response carries: security headers, friendly errors, no CDN assets."""

from __future__ import annotations

import re

from ssp.errors import MESSAGES
from tests.conftest import PASSWORD


def _check_headers(response) -> None:
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_security_headers_on_pages_errors_and_static_files(signed_in, client):
    _check_headers(client.get("/sign-in"))
    admin = signed_in("admin")
    for url in ("/", "/admin/users", "/no-such-page", "/static/css/app.css"):
        with admin.client.get(url) as response:
            _check_headers(response)
    assert admin.client.get("/").headers["Cache-Control"] == "no-store"
    assert admin.client.get("/no-such-page").headers["Cache-Control"] == "no-store"


def test_forms_work_over_https(app, factory, client):
    """Over HTTPS, Flask-WTF refuses a POST without a same-site Referer: the pages' policy
    must let the browser send one to this site (same-origin), and never to another."""
    import re as regex

    factory.user("desk1", "front_desk")
    page = client.get("/sign-in", base_url="https://ssp.example.org")
    assert page.headers["Referrer-Policy"] == "same-origin"
    html = page.get_data(as_text=True)
    assert '<meta name="referrer" content="same-origin">' in html
    token = regex.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    form = {"csrf_token": token, "username": "desk1", "password": PASSWORD}
    refused = client.post("/sign-in", base_url="https://ssp.example.org", data=form)
    assert refused.status_code == 400  # what no-referrer did to every form
    signed = client.post(
        "/sign-in",
        base_url="https://ssp.example.org",
        data=form,
        headers={"Referer": "https://ssp.example.org/sign-in"},  # what same-origin sends
    )
    assert signed.status_code == 302 and signed.headers["Location"] == "/"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/sign-in").headers
    secure = client.get("/sign-in", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_error_pages_are_friendly_and_reveal_nothing(app, signed_in):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("secret internals: SELECT * FROM users")

    admin = signed_in("admin")
    response = admin.client.get("/boom-for-test")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert MESSAGES[500][0] in body
    assert "SELECT" not in body and "Traceback" not in body and "RuntimeError" not in body

    response = admin.client.post("/")  # GET-only route
    assert response.status_code == 405 and MESSAGES[405][0] in response.get_data(as_text=True)


def test_json_clients_get_json_errors(signed_in):
    admin = signed_in("admin")
    response = admin.client.get("/nothing-here", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json() == {"error": "Page not found", "status": 404}


def test_oversized_request_is_413(app, signed_in):
    admin = signed_in("admin")
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    response = admin.post("/admin/sites/new", {"name": big, "kind": "fixed"})
    assert response.status_code == 413


def test_no_asset_from_another_host(signed_in):
    admin = signed_in("admin")
    page = admin.get("/").get_data(as_text=True)
    assert not re.search(r'(src|href)="(https?:)?//', page)
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        with admin.client.get(asset) as response:
            assert response.status_code == 200, asset


def test_health_check_is_public(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


PAGES_WITH_FORMS = (
    "/admin/users/new",
    "/admin/sites/new",
    "/admin/supplies/new",
    "/admin/partners/new",
    "/account/password",
    "/",
    "/participants/new",
    "/participants/{participant}/edit",
    "/participants/{participant}/merge",
    "/participants/{participant}/visits/new",
    "/participants/{participant}/referrals/new",
    "/participants/{participant}/follow-ups/new",
    "/visits/walk-in",
    "/follow-ups",
)


def test_every_field_has_a_label(signed_in, factory):
    factory.site()
    factory.supply_item("Naloxone nasal 4 mg", "naloxone", "kit")
    factory.partner()
    participant = factory.participant("MAPH0687")
    admin = signed_in("admin")
    user_id = factory.user("desk9", "front_desk")
    factory.referral(participant, user_id=user_id)  # so the visit form has a banner select
    for url in PAGES_WITH_FORMS:
        url = url.format(participant=participant)
        page = admin.get(url).get_data(as_text=True)
        ids = re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', page)
        hidden = re.findall(
            r'<input[^>]*type="hidden"[^>]*id="([^"]+)"|'
            r'<input[^>]*id="([^"]+)"[^>]*type="hidden"',
            page,
        )
        skip = {name for pair in hidden for name in pair if name} | {"submit", "save"}
        visible = [i for i in ids if i not in skip]
        assert visible, url
        for field_id in visible:
            assert f'<label for="{field_id}"' in page, (url, field_id)
