"""Start localstripe as a separate process with isolated state (tests and benchmarks).

localstripe pickles its whole state to the fixed path /tmp/localstripe.pickle after every
write, and loads it at start. Started with ``--from-scratch`` it never loads that file, so
each run's state lives only in its own process: parallel runs may overwrite the file but
never read each other's state. (A private tmpfs over /tmp would hide the virtualenv when the
checkout itself lives under /tmp, as CI's may.) localstripe is GPL: the test suite only ever
runs it, never imports it (the benchmark's launcher that does is GPL itself).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

TEST_KEY = "sk_test_billingdesk"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_localstripe(
    workdir: Path, launcher: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start localstripe on a free port with isolated state; return (process, base URL).

    ``launcher``: a script to run instead of ``-m localstripe``, taking the same arguments
    (the benchmark's indexed localstripe, ``bench/localstripe_fast.py``).
    """
    port = _free_port()
    program = [str(launcher)] if launcher else ["-m", "localstripe"]
    cmd = [sys.executable, *program, "--port", str(port), "--from-scratch"]
    log = (workdir / "localstripe.log").open("wb")
    env = {**os.environ, "HOME": str(workdir), "TMPDIR": str(workdir)}
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        request = urllib.request.Request(
            url + "/v1/balance", headers={"Authorization": f"Bearer {TEST_KEY}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as resp:
                if resp.status == 200:
                    return proc, url
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(
                f"localstripe did not start: {(workdir / 'localstripe.log').read_text()}"
            )
        time.sleep(0.1)
