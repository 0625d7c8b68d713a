"""The interactive reference at ``/api/v1/docs``: served from the installed package, rendered by the
real Chromium (driven over the DevTools protocol) with every operation shown and no failed request."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import websocket
from swagger_ui_bundle import swagger_ui_path

from tests.export_validators import CHROMIUM

HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def test_the_page_and_its_assets_come_from_the_api_never_a_cdn(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "http" not in html and "//" not in html  # every URL is relative to the API itself
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert f'"docs/{asset}"' in html
        served = client.get(f"/api/v1/docs/{asset}")
        assert served.status_code == 200
        assert served.get_data() == (Path(swagger_ui_path) / asset).read_bytes()
    assert client.get("/api/v1/docs/index.html").status_code == 404  # only the three assets


class DevTools:
    """A minimal Chrome DevTools Protocol client over the page target's WebSocket."""

    def __init__(self, url: str):
        self.socket = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message["result"]
            self.events.append(message)

    def evaluate(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    # its helper processes may still write to the profile as the browser exits: what they leave in /tmp
    # is no failure of the test
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 60
            while not (port_file.exists() and port_file.read_text().strip()):
                assert time.monotonic() < deadline, "chromium did not open its DevTools port"
                time.sleep(0.1)
            port = port_file.read_text().split()[0]
            pages = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
            page = next(target for target in pages if target["type"] == "page")
            devtools = DevTools(page["webSocketDebuggerUrl"])
            yield devtools
            devtools.close()
        finally:
            os.killpg(process.pid, signal.SIGTERM)  # the browser and its helper processes
            process.wait(timeout=30)


def test_chromium_renders_every_operation_with_no_failed_request(live_server, browser):
    spec = requests.get(f"{live_server}/api/v1/openapi.json", timeout=30).json()
    operations = sum(1 for item in spec["paths"].values() for method in item if method in HTTP_METHODS)
    browser.call("Network.enable")
    browser.call("Page.enable")
    browser.call("Page.navigate", url=f"{live_server}/api/v1/docs")
    deadline = time.monotonic() + 90
    rendered = 0
    while time.monotonic() < deadline:
        rendered = browser.evaluate("document.querySelectorAll('.opblock').length") or 0
        if rendered >= operations:
            break
        time.sleep(0.25)
    assert rendered == operations, f"{rendered} of {operations} operations rendered"
    assert browser.evaluate("document.querySelector('.info .title').textContent").startswith(
        spec["info"]["title"]
    )

    events = browser.events
    requested = {
        e["params"]["requestId"]: e["params"]["request"]["url"]
        for e in events
        if e["method"] == "Network.requestWillBeSent"
    }
    failed = [
        requested.get(e["params"]["requestId"]) for e in events if e["method"] == "Network.loadingFailed"
    ]
    statuses = {
        e["params"]["response"]["url"]: e["params"]["response"]["status"]
        for e in events
        if e["method"] == "Network.responseReceived"
    }
    assert failed == []
    assert {url: status for url, status in statuses.items() if status >= 400} == {}
    origin = urlsplit(live_server).netloc
    assert {urlsplit(url).netloc for url in requested.values() if not url.startswith("data:")} == {origin}
    paths = {urlsplit(url).path for url in requested.values()}
    assert {
        "/api/v1/docs",
        "/api/v1/docs/swagger-ui.css",
        "/api/v1/docs/swagger-ui-bundle.js",
        "/api/v1/docs/swagger-ui-standalone-preset.js",
        "/api/v1/openapi.json",
    } <= paths
