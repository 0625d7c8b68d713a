"""WebSocket event latency, from a worker's publish to the client's receipt, with 200 connected clients.

Self-contained (``bench/_stack.py``): a scratch PostgreSQL database and Redis database, and the API
with its WebSocket as ``make run`` serves it (gunicorn, one gevent worker). The 200 clients are
``websocket-client`` sockets of one organization, 100 threads in each of 2 client processes;
``WS_MAX_SOCKETS_PER_PRINCIPAL`` is raised to 200 for the benchmarked server (the default is 20 per
user or API key). Events are published the way workers publish them (``common.events.publish``:
sequence number, then Redis PUBLISH) with the wall-clock send time in the payload; every client
records receipt time minus send time for every event. Run from the repository root::

    .venv/bin/python bench/bench_ws_latency.py [--clients 200] [--events 100] [--rate 10]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import threading
import time
from pathlib import Path

import websocket

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import Stack, machine

CLIENT_PROCESSES = 2


def client_process(url: str, clients: int, ready, results) -> None:
    """``clients`` sockets, one thread each; puts every latency (seconds) it measured into ``results``."""
    latencies: list[float] = []
    lock = threading.Lock()
    sockets = []
    for _ in range(clients):
        ws = websocket.create_connection(url, timeout=120)
        hello = json.loads(ws.recv())
        assert hello["type"] == "hello", hello
        sockets.append(ws)

    def listen(ws) -> None:
        mine = []
        while True:
            message = ws.recv()
            received = time.time()
            event = json.loads(message)
            if event.get("scan_id") != "bench-latency":
                continue
            if event.get("stage") == "done":
                break
            mine.append(received - event["sent_at"])
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=listen, args=(ws,), daemon=True) for ws in sockets]
    for thread in threads:
        thread.start()
    ready.release()
    for thread in threads:
        thread.join()
    for ws in sockets:
        ws.close()
    results.put(latencies)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0, help="events per second")
    args = parser.parse_args()
    with Stack("ws", WS_MAX_SOCKETS_PER_PRINCIPAL=str(args.clients)) as stack:
        stack.start_api()
        session = stack.register()
        org_id = session["user"]["personal_organization_id"]
        url = stack.api.replace("http://", "ws://", 1) + f"/ws?token={session['access_token']}"
        context = multiprocessing.get_context("spawn")
        ready, results = context.Semaphore(0), context.Queue()
        per_process = args.clients // CLIENT_PROCESSES
        processes = [
            context.Process(target=client_process, args=(url, per_process, ready, results))
            for _ in range(CLIENT_PROCESSES)
        ]
        for process in processes:
            process.start()
        for _ in processes:
            if not ready.acquire(timeout=180):
                raise TimeoutError("the clients did not connect")
        from common import events

        time.sleep(1)
        for n in range(args.events):
            events.publish(org_id, "scan.progress", scan_id="bench-latency", progress=n, sent_at=time.time())
            time.sleep(1 / args.rate)
        events.publish(org_id, "scan.progress", scan_id="bench-latency", stage="done", sent_at=time.time())
        latencies = [value for _ in processes for value in results.get(timeout=120)]
        for process in processes:
            process.join(timeout=30)
    expected = args.events * per_process * CLIENT_PROCESSES
    ms = [value * 1000 for value in latencies]
    print(f"machine: {machine()}")
    print(
        f"{per_process * CLIENT_PROCESSES} clients, {args.events} events at {args.rate:g}/s; "
        f"received {len(ms)} of {expected} (event, client) pairs"
    )
    print("| clients | events | p50 ms | p90 ms | p99 ms | max ms | mean ms |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    p50, p90, p99 = (percentile(ms, q) for q in (0.5, 0.9, 0.99))
    print(
        f"| {per_process * CLIENT_PROCESSES} | {args.events} | {p50:.1f} | {p90:.1f} | {p99:.1f} "
        f"| {max(ms):.1f} | {statistics.mean(ms):.1f} |"
    )


if __name__ == "__main__":
    main()
