"""The compact panel over HTTP: throughput and p99 of a real `billingdesk serve` under wrk.

    .venv/bin/python bench/http_panel.py                      # SQLite in var/bench-http
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bd_http .venv/bin/python bench/http_panel.py

Seeds a demo-size installation once (``billingdesk demo --no-serve --persons 400``), signs a
bench agent in (a real session row), starts ``billingdesk serve`` with its defaults (2 workers
x 2 threads) on a free port, and drives ``GET /panel/person/<random id>/`` with wrk over
keep-alive connections (``bench/http_panel.lua``) at each ``--connections`` level. Prints
wrk's requests/s and latency percentiles, the server's CPU time per request (its processes'
user + system time over the run, divided by the requests: the figure that least depends on
what else the machine runs) and a Markdown row per level. wrk runs on the same
machine and takes CPU from the server: on 2 cores the figures are a floor.
"""

# ruff: noqa: S603 - subprocess argv is built from this script's own constants and options

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BILLINGDESK = [sys.executable, "-m", "billingdesk"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float = 120) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"serve exited with {server.returncode}")
        try:
            with opener.open(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit("serve did not answer /healthz")


def sign_in(env: dict[str, str]) -> tuple[str, int]:
    """A bench agent's session key, and the highest person id."""
    script = """
from django.contrib.auth.models import User
from django.test import Client
from billingdesk.accounts.models import AgentProfile, Role
from billingdesk.billing.models import Person
user, _ = User.objects.get_or_create(username="bench-http", defaults={"first_name": "Bench"})
AgentProfile.objects.update_or_create(user=user, defaults={"role": Role.AGENT})
client = Client()
client.force_login(user)
top = Person.objects.order_by("-id").values_list("id", flat=True).first()
print(client.cookies["sessionid"].value, top)
"""
    done = subprocess.run(
        [*BILLINGDESK, "shell", "-c", script], env=env, capture_output=True, text=True, check=True
    )
    key, top = done.stdout.strip().splitlines()[-1].split()
    return key, int(top)


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU of the server process and its worker processes (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[1] is the parent pid; [11], [12] user and system time in clock ticks
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def wrk(base: str, connections: int, seconds: int, session: str, persons: int) -> dict[str, float]:
    threads = min(2, connections)
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
        "-s", str(ROOT / "bench" / "http_panel.lua"), base, "--", session, str(persons),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    print(output)

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if match is None:
            sys.exit(f"no {label} in wrk's output")
        value, unit = float(match[1]), match[2]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert rate is not None, output
    return {
        "rate": float(rate[1]),
        "p50": ms("50%"),
        "p90": ms("90%"),
        "p99": ms("99%"),
        "non2xx": float(errors[1]) if errors else 0.0,
        "socket_errors": 1.0 if socket_errors else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=400, help="demo size (default: 400)")
    parser.add_argument("--connections", default="8,50", help="wrk levels (default: 8,50)")
    parser.add_argument("--seconds", type=int, default=20, help="per level (default: 20)")
    parser.add_argument("--warmup", type=int, default=5, help="seconds before each level")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    data_dir = Path(os.environ.get("BILLINGDESK_DATA_DIR", ROOT / "var" / "bench-http"))
    env = {**os.environ, "BILLINGDESK_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    marker = data_dir / f"seeded-{args.persons}"
    if not marker.exists():
        subprocess.run(
            [*BILLINGDESK, "demo", "--no-serve", "--persons", str(args.persons)],
            env=env,
            check=True,
        )
        marker.touch()
    subprocess.run([*BILLINGDESK, "migrate", "-v", "0"], env=env, check=True)
    session, persons = sign_in(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (data_dir / "serve.log").open("w")
    server = subprocess.Popen(
        [*BILLINGDESK, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    rows = []
    try:
        wait_ready(f"{base}/healthz", server)
        load_at_start = os.getloadavg()
        for level in [int(c) for c in args.connections.split(",")]:
            if args.warmup:
                wrk(base, level, args.warmup, session, persons)
            cpu_before = server_cpu_seconds(server.pid)
            result = wrk(base, level, args.seconds, session, persons)
            cpu = server_cpu_seconds(server.pid) - cpu_before
            result["cpu_ms"] = cpu * 1000 / max(1.0, result["rate"] * args.seconds)
            rows.append((level, result))
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    database = "PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    print(f"{os.cpu_count()} CPUs; load average at the start {load_at_start}, "
          f"at the end {os.getloadavg()}")  # fmt: skip
    print(
        "| database | connections | requests/s | p50 | p90 | p99 | server CPU / request | non-2xx |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for level, r in rows:
        print(
            f"| {database} | {level} | {r['rate']:.0f} | {r['p50']:.1f} ms | {r['p90']:.1f} ms "
            f"| {r['p99']:.1f} ms | {r['cpu_ms']:.1f} ms | {r['non2xx']:.0f} |"
        )


if __name__ == "__main__":
    main()
