"""CI upload validation: what validating and converting an uploaded document costs, and who pays it.

Default mode: the document is the exporters' realistic scan scaled to ``--components``
(bench_exports.big_bundle), uploaded once as the CLI's JSON result and once as the CycloneDX 1.6 BOM the
platform exports; each is run through :func:`common.bom.importer.import_document` (schema validation plus
conversion), the ingest worker's work for an upload. Target: under 30 s for 20,000 components.

``--uploads 1,10,50``: a CycloneDX BOM of the plainest values (one AI package with that many megabytes of
``{"name", "value"}`` properties, each a JSON value the schema visits) sent to ``POST /scans/import`` of
the API as ``make run`` serves it (``bench/_stack.py``: gunicorn, gevent, one process; one prefork
``ingest`` worker), one upload per size in ascending order. For each: the API's CPU (its process tree,
user + system from ``/proc``; a worker process gunicorn killed past its timeout takes its CPU with it)
and wall time until the POST answered, the worker's CPU until the scan
ended, and the scan's status; then each process's peak RSS (``VmHWM``, so the largest upload's).

    .venv/bin/python bench/bench_import.py            # --components N --repeat R
    .venv/bin/python bench/bench_import.py --uploads 1,10,50
    .venv/bin/python bench/bench_import.py --worker-memory

``--worker-memory``: the ingest worker's decode, schema and conversion of one body per fresh process (its
peak RSS above what it held before, ``VmHWM``), for the platform's 20,000-component exports, bodies of
the costliest values per counted value at ``IMPORT_MAX_VALUES``, and 25 MiB of ``[[],[],…]``; each with
its count (``json_values_at_most``) and whether ``POST /scans/import`` refuses it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import PG_ADMIN_URL, Stack, machine
from bench.bench_exports import big_bundle
from bench.bench_footprint import tree_pids
from bench.bench_ingest import cpu_seconds, peak_rss_mb, wait_until_ready
from common import fastjson
from common.bom.importer import import_document
from common.bom.upload import UploadInvalid, json_values_at_most
from common.config import get_settings
from common.exporters import render
from common.scanner.model import keep_storable_components, storable_text

TARGET_SECONDS = 30.0


def cheap_values_bom(megabytes: float) -> bytes:
    """One AI package whose properties fill the body to ``megabytes``: the most JSON values per byte
    that the schema visits one by one."""
    count = int(megabytes * 1e6 / len(b'{"name": "p1000000", "value": "v"}, '))
    component = {
        "type": "library",
        "name": "openai",
        "version": "1.30.0",
        "purl": "pkg:pypi/openai@1.30.0",
        "properties": [{"name": f"p{index}", "value": "v"} for index in range(count)],
    }
    return json.dumps(
        {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [component]}
    ).encode()


def bench_uploads(sizes: list[float]) -> int:
    rows = []
    with Stack("import", RATELIMIT_ENABLED="false") as stack:
        stack.start_api()
        worker = stack.start_worker("ingest", "ingest")
        headers = {"Authorization": f"Bearer {stack.register()['access_token']}"}
        headers["Content-Type"] = "application/json"
        wait_until_ready("ingest")
        monitor = psycopg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{stack.db_name}", autocommit=True)
        api, ingest = stack.processes["api"].pid, worker.pid
        for megabytes in sizes:
            body = cheap_values_bom(megabytes)
            api_before, worker_before = cpu_seconds(tree_pids(api)), cpu_seconds(tree_pids(ingest))
            started = time.perf_counter()
            try:
                response = requests.post(f"{stack.api}/scans/import", data=body, headers=headers, timeout=600)
            except requests.ConnectionError:
                response = None  # gunicorn killed the API's worker process past its timeout
            answered = time.perf_counter() - started
            api_cpu = cpu_seconds(tree_pids(api)) - api_before
            status = (
                "connection closed: API worker killed" if response is None else f"HTTP {response.status_code}"
            )
            if response is not None and response.status_code == 202:
                scan_id = response.json()["id"]
                query = "SELECT status, error FROM scans WHERE id = %s"
                while (row := monitor.execute(query, (scan_id,)).fetchone())[0] not in (
                    "completed",
                    "failed",
                ):
                    time.sleep(0.1)
                status += f", scan {row[0]}" + (f" ({row[1][:60]})" if row[1] else "")
            worker_cpu = cpu_seconds(tree_pids(ingest)) - worker_before
            rows.append((len(body), answered, api_cpu, worker_cpu, status))
        monitor.close()
        peaks = peak_rss_mb(api), peak_rss_mb(ingest)
    print(f"machine: {machine()}")
    print("upload | POST answered | API CPU | API CPU per byte | worker CPU | outcome")
    for size, answered, api_cpu, worker_cpu, status in rows:
        print(
            f"{size / 1e6:.1f} MB | {answered:.2f} s | {api_cpu:.2f} s | {api_cpu / size * 1e6:.2f} us"
            f" | {worker_cpu:.2f} s | {status}"
        )
    print(f"peak RSS: API {peaks[0]:.0f} MB, ingest worker {peaks[1]:.0f} MB")
    return 0


CYCLONEDX_HEAD = b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, '


def _trusera_export(components: int) -> bytes:
    bundle = big_bundle(components)
    result = {key: bundle[key] for key in ("components", "relationships", "tool")}
    return json.dumps(result | {"warnings": [], "files_scanned": components}).encode()


def _empty_arrays(values: int) -> bytes:
    return CYCLONEDX_HEAD + b'"x": [' + b"[]," * (values // 2 - 4) + b"[]]}"


def _distinct_keys(values: int) -> bytes:
    keys = b",".join(b'"%x":0' % index for index in range(values - 9))
    return CYCLONEDX_HEAD + b'"components": [{"type": "library", "name": "a", "x": {' + keys + b"}}]}"


def _short_strings(values: int) -> bytes:
    tags = b",".join(b'"%x"' % index for index in range(values - 9))
    return CYCLONEDX_HEAD + b'"components": [{"type": "library", "name": "a", "tags": [' + tags + b"]}]}"


WORKER_BODIES = {
    "cyclonedx export, 20,000 components": lambda limit: render("cyclonedx", big_bundle(20_000)),
    "trusera json, 20,000 components": lambda limit: _trusera_export(20_000),
    "distinct keys at the limit": _distinct_keys,
    "short strings at the limit": _short_strings,
    "[[],[],...] at the limit": _empty_arrays,
    "[[],[],...], 25 MiB": lambda limit: _empty_arrays(17_000_000),
}


def _vm_peak_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM"))


def worker_memory_of(name: str) -> None:
    """One body through what ``ingest_upload`` does with it, in this process; prints one table row."""
    limit = get_settings().import_max_values
    body = WORKER_BODIES[name](limit)
    counted = json_values_at_most(body)
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # VmHWM restarts from what the process holds now: the body and the modules
    before = _vm_peak_mb()
    started = time.process_time()
    try:
        _, result = import_document(fastjson.loads(body))
        keep_storable_components(storable_text(result))
        outcome = "accepted"
    except UploadInvalid:
        outcome = "refused by the schema"
    cpu = time.process_time() - started
    at_post = "refused (413)" if counted > limit else "stored"
    print(
        f"{name} | {len(body) / 2**20:.1f} MiB | {counted:,} | {at_post} | +{_vm_peak_mb() - before:.0f} MB"
        f" | {cpu:.1f} s | {outcome}",
        flush=True,
    )


def bench_worker_memory() -> int:
    print(f"machine: {machine()}; IMPORT_MAX_VALUES {get_settings().import_max_values:,}")
    print("body | size | values counted | at POST | worker peak RSS added | worker CPU | in the worker")
    for name in WORKER_BODIES:
        subprocess.run([sys.executable, __file__, "--worker-memory-of", name], check=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--components", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--uploads", help="megabytes of each upload to send to the API, e.g. 1,10,50")
    parser.add_argument("--worker-memory", action="store_true")
    parser.add_argument("--worker-memory-of", choices=WORKER_BODIES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_memory_of:
        worker_memory_of(args.worker_memory_of)
        return 0
    if args.worker_memory:
        return bench_worker_memory()
    if args.uploads:
        return bench_uploads([float(size) for size in args.uploads.split(",")])
    bundle = big_bundle(args.components)
    documents = {
        "trusera json": {
            "components": bundle["components"],
            "relationships": bundle["relationships"],
            "warnings": [],
            "files_scanned": args.components,
            "tool": bundle["tool"],
        },
        "cyclonedx 1.6": json.loads(render("cyclonedx", bundle)),
    }
    failed = False
    for name, document in documents.items():
        size = len(json.dumps(document)) // 1024
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            import_document(document)
            times.append(time.perf_counter() - started)
        best, median = min(times), statistics.median(times)
        failed |= median > TARGET_SECONDS
        print(f"{name:14} {args.components} components, {size} KiB: median {median:.2f} s, best {best:.2f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
