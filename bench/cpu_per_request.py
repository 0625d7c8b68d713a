"""CPU per request of the hot GETs and ``POST /scans``, in process, as gunicorn's gevent worker calls
the app: ``app.wsgi_app`` with a prebuilt WSGI environ (no test client, no HTTP parsing, no network),
beside the bare endpoint of ``bench_api.py`` (``bench/bare_app.py``) called the same way. gevent is
monkey-patched and ``gc.freeze()`` runs after the app loads, as in the server; rate limits are off and the
components page is asked with ``?per_page=20``, as in ``bench_api.py``. ``POST /scans`` queues a scan of
a one-file directory as ``bench_api.py``'s does (its task goes to the broker, which nobody consumes here;
the bound on scans in flight is raised past what a run creates).

Batches of requests are timed on the process clock (``time.process_time``), so other jobs on the machine
inflate the figures less than wall time would; each figure is the best batch. ``--profile NAME`` prints a
cProfile (process clock) of that workload instead. Function calls per request
are counted too: unlike CPU time, the load of the machine does not change them. Run from the repository root::

    .venv/bin/python bench/cpu_per_request.py [--requests 1000] [--batches 5] [--profile components]
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import cProfile  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import PASSWORD, Stack  # noqa: E402
from bench.bench_api import COMPONENTS, insert_components  # noqa: E402


def environ(path: str, token: str | None, body: bytes | None = None) -> dict:
    """What gunicorn hands the app for ``wrk``'s GET of ``path`` (with its query string, if any), or its
    POST of the JSON ``body``."""
    path, _, query = path.partition("?")
    env = {
        "REQUEST_METHOD": "GET" if body is None else "POST",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body or b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if token:
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if body is not None:
        env["CONTENT_TYPE"] = "application/json"
        env["CONTENT_LENGTH"] = str(len(body))
    return env


def call(wsgi_app, path: str, token: str | None, body: bytes | None = None) -> tuple[str, bytes]:
    statuses: list[str] = []
    response = wsgi_app(
        environ(path, token, body), lambda status, _headers, _exc=None: statuses.append(status)
    )
    data = b"".join(response)
    if hasattr(response, "close"):
        response.close()
    return statuses[0], data


def cpu_ms_per_request(workload: tuple, requests: int) -> float:
    """``workload``: the WSGI app, the path, the bearer token and the POST body (None: a GET)."""
    started = time.process_time()
    for _ in range(requests):
        call(*workload)
    return (time.process_time() - started) / requests * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000, help="requests per batch")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument(
        "--profile", default="", help="profile this workload (bare, components, list, dashboard, post)"
    )
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--only", default="", help="only the workloads naming this (and bare)")
    args = parser.parse_args()
    with Stack("cpu", RATELIMIT_ENABLED="false", SCANS_IN_FLIGHT_PER_ORG="10000000") as stack:
        for name in ("RATELIMIT_ENABLED", "SCANS_IN_FLIGHT_PER_ORG", "SCAN_ROOTS"):
            os.environ[name] = stack.env[name]
        from bench.bare_app import app as bare
        from web import create_app

        app = create_app()
        session = (
            app.test_client()
            .post(
                "/api/v1/auth/register",
                json={"email": "cpu@example.com", "password": PASSWORD, "name": "CPU"},
            )
            .json
        )
        token = session["access_token"]
        scan_id = insert_components(session["user"]["personal_organization_id"], "/srv/cpu", COMPONENTS)
        target = stack.scan_root / "tiny"
        target.mkdir()
        (target / "app.py").write_text("import openai\nclient = openai.OpenAI()\n")
        post_body = json.dumps({"target": str(target)}).encode()
        gc.collect()
        gc.freeze()
        workloads = {
            "bare": (bare.wsgi_app, "/page", None, None),
            "components": (app.wsgi_app, f"/api/v1/scans/{scan_id}/components?per_page=20", token, None),
            "list": (app.wsgi_app, "/api/v1/scans", token, None),
            "dashboard": (app.wsgi_app, "/api/v1/dashboard/overview", token, None),
            "post": (app.wsgi_app, "/api/v1/scans", token, post_body),
        }
        workloads = {name: w for name, w in workloads.items() if name == "bare" or args.only in name}
        for name, workload in workloads.items():
            status, body = call(*workload)
            assert status[:3] in ("200", "202"), (name, status, body[:300])
            cpu_ms_per_request(workload, 50)  # connections opened, plans prepared
        if args.profile:
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            cpu_ms_per_request(workloads[args.profile], args.requests)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
            return
        batches: dict[str, list[float]] = {name: [] for name in workloads}
        for _ in range(args.batches):
            for name, workload in workloads.items():
                batches[name].append(cpu_ms_per_request(workload, args.requests))
        bare_ms = min(batches["bare"])
        print("| workload | best CPU ms/request | batches | share of bare | Python calls/request |")
        print("| --- | ---: | --- | ---: | ---: |")
        for name, figures in batches.items():
            spread = " ".join(f"{figure:.3f}" for figure in figures)
            calls = calls_per_request(workloads[name], CALLS_COUNTED)
            print(f"| {name} | {min(figures):.3f} | {spread} | {bare_ms / min(figures):.0%} | {calls:,.0f} |")


CALLS_COUNTED = 200  # requests whose function calls are counted: a figure the machine's load cannot change


def calls_per_request(workload: tuple, requests: int) -> float:
    profiler = cProfile.Profile()
    profiler.enable()
    cpu_ms_per_request(workload, requests)
    profiler.disable()
    return pstats.Stats(profiler).total_calls / requests


if __name__ == "__main__":
    main()
