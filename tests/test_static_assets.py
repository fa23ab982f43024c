"""Static files for slow networks: versioned URLs kept a year, compressed styles and
scripts; pages and JSON answers never compressed (BREACH)."""

from __future__ import annotations

import gzip
import re

import brotli

ASSET = re.compile(r'(?:src|href)="(/static/[^"?]+)\?v=([0-9a-f]{16})"')


def test_pages_link_static_files_by_content_digest(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assets = ASSET.findall(page)
    assert ("/static/css/app.css" in dict(assets)) and len(assets) >= 2
    assert not re.search(r'(?:src|href)="/static/[^"?]+"', page), "an unversioned asset"


def test_a_versioned_file_is_kept_a_year_and_sent_compressed(client):
    path, digest = ASSET.findall(client.get("/sign-in").get_data(as_text=True))[0]
    plain = client.get(path).data
    for encoding, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        response = client.get(f"{path}?v={digest}", headers={"Accept-Encoding": encoding})
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["Content-Encoding"] == encoding
        assert len(response.data) < len(plain) / 2
        assert decode(response.data) == plain


def test_an_old_or_missing_version_is_asked_for_again(client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=0000000000000000"):
        with client.get(url) as response:
            assert response.status_code == 200
            assert response.headers["Cache-Control"] == "no-cache"
            etag = response.headers["ETag"]
        with client.get(url, headers={"If-None-Match": etag}) as again:
            assert again.status_code == 304


def test_pages_and_json_are_never_compressed(signed_in, factory):
    factory.site()
    factory.participant("MAPH0687")
    admin = signed_in("admin")
    compress = {"Accept-Encoding": "br, gzip"}
    for url in ("/", "/participants/1", "/admin/audit"):
        response = admin.client.get(url, headers=compress)
        assert response.status_code == 200 and len(response.data) > 500, url
        assert "Content-Encoding" not in response.headers, url
    response = admin.post("/participants/find", {"code": "MAPH"}, headers=compress)
    assert response.status_code == 200 and "MAPH0687" in response.get_data(as_text=True)
    assert "Content-Encoding" not in response.headers
    response = admin.client.post(
        "/api/participants/search",
        json={"q": "MAPH"},
        headers={**compress, "X-CSRFToken": admin.token},
    )
    assert response.status_code == 200 and response.is_json, response.data
    assert "Content-Encoding" not in response.headers
