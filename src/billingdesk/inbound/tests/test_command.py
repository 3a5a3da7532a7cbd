"""``billingdesk mail-in`` as an operator runs it: a real process, a real SMTP client."""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from billingdesk.core.mailroute import reply_address

from .conftest import DOMAIN, free_port

SRC = Path(__file__).resolve().parents[3]


def test_bad_options_exit_2(settings) -> None:
    settings.BILLINGDESK_INBOUND_DOMAIN = ""
    with pytest.raises(CommandError) as caught:
        call_command("mail-in")
    assert caught.value.returncode == 2 and "BILLINGDESK_INBOUND_DOMAIN" in str(caught.value)
    settings.BILLINGDESK_INBOUND_DOMAIN = DOMAIN
    for args, text in [
        (["--tls-cert", "x.pem"], "go together"),
        (["--require-starttls"], "needs --tls-cert"),
        (["--lmtp", "--require-starttls", "--tls-cert", "a", "--tls-key", "b"], "LMTP"),
        (["--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"], "cannot load"),
        (["--port", "70000"], "not a port"),
        (["--processes", "0"], "between 1 and 64"),
        (["--processes", "2", "--port", "0"], "fixed --port"),
    ]:
        with pytest.raises(CommandError) as caught:
            call_command("mail-in", *args)
        assert caught.value.returncode == 2 and text in str(caught.value)


def test_listener_process_checks_recipients_at_rcpt(settings, tmp_path) -> None:
    settings.BILLINGDESK_INBOUND_DOMAIN = DOMAIN
    settings.BILLINGDESK_INBOUND_KEYS = ["process-key"]
    valid = reply_address(12, 3)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "BILLINGDESK_INBOUND_DOMAIN": DOMAIN,
        "BILLINGDESK_INBOUND_KEYS": "process-key",
        "BILLINGDESK_DATA_DIR": str(tmp_path),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "billingdesk", "mail-in", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = ""
        for _ in range(20):  # aiosmtpd logs a line or two before the command's own
            line = proc.stdout.readline()
            if line.startswith("mail-in:") or not line:
                break
        assert f"SMTP on 127.0.0.1:{port} for @{DOMAIN}" in line, line
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.ehlo()
            assert client.mail("client@example.org")[0] == 250
            assert client.rcpt(f"nobody@{DOMAIN}")[0] == 550
            assert client.rcpt(valid.replace("billing+", "billing+0"))[0] == 550
            assert client.rcpt(valid)[0] == 250
            assert client.rcpt(f"billing@{DOMAIN}")[0] == 250
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def test_several_listener_processes_share_the_port(tmp_path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "BILLINGDESK_INBOUND_DOMAIN": DOMAIN,
        "BILLINGDESK_DATA_DIR": str(tmp_path),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "billingdesk", "mail-in", "--port", str(port), "--processes", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = ""
        for _ in range(20):
            line = proc.stdout.readline()
            if line.startswith("mail-in:") or not line:
                break
        assert f"SMTP on 127.0.0.1:{port} for @{DOMAIN} (2 processes)" in line, line
        children = _children(proc.pid)
        assert len(children) == 1
        cmdline = Path(f"/proc/{children[0]}/cmdline").read_bytes().split(b"\0")
        assert b"--reuse-port" in cmdline and str(port).encode() in cmdline
        for _ in range(12):  # whichever process the kernel picks answers the same
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
                assert client.ehlo()[0] == 250
                assert client.mail("client@example.org")[0] == 250
                assert client.rcpt(f"nobody@{DOMAIN}")[0] == 550
                assert client.rcpt(f"billing@{DOMAIN}")[0] == 250
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert not any(Path(f"/proc/{c}").exists() for c in children)
