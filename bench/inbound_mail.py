"""Inbound email benchmark: replies sent over SMTP to the real listener, stored, then ticketed.

    .venv/bin/python bench/inbound_mail.py                       # a temporary SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bd_inbound_bench \\
        .venv/bin/python bench/inbound_mail.py                   # a freshly created database

Migrates the database, starts ``billingdesk mail-in`` (aiosmtpd, as a self-hoster runs it
behind Postfix) in a process of its own, and sends ``--messages`` distinct replies (each with
its own Message-ID and sender, to the bare inbound address) over ``--connections`` SMTP
sessions in parallel, several messages per session as an MTA's connection cache does. Each
message is acknowledged (``250``) only once it is stored (card numbers masked) and its job
queued, so **stored/s** = messages / wall time from the first ``MAIL FROM`` to the last
``250``; the stored count is then checked in the database.

Then (unless ``--no-process``) a Zendesk connection is pointed at the test suite's Zendesk
fake (tests/fakes/helpdesks.py, a real HTTP server in this process) and ``--task-workers``
``billingdesk worker`` processes turn the stored messages into tickets (each: matching, a
Zendesk ticket, the .eml uploaded, the billing note) for ``--process-seconds`` (or until none
is waiting): **ticketed/s** = tickets / that time. The client and the fake share the machine
with the listener and the workers. The whole run takes about a minute.
"""

# ruff: noqa: S603 - subprocess argv is built from this script's own constants

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DOMAIN = "reply.bench.example"


def _messages(n: int) -> list[tuple[str, bytes]]:
    out = []
    for i in range(n):
        msg = EmailMessage()
        sender = f"customer{i}@example.org"
        msg["From"] = f"Customer {i} <{sender}>"
        msg["To"] = f"billing@{DOMAIN}"
        msg["Subject"] = f"Question about my invoice #{i}"
        msg["Message-ID"] = f"<bench-{i}-{os.getpid()}@example.org>"
        msg.set_content(
            f"Hello,\n\nwhy was I charged twice this month? Order {i}.\n\nThanks\n\n"
            "On Monday Acme wrote:\n> Thank you for your payment\n"
        )
        out.append((sender, msg.as_bytes()))
    return out


def _wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the listener exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    sys.exit("the listener did not start")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _listener_cpu(pid: int) -> float:
    """CPU seconds of the listener and its child listener processes."""
    total = _cpu_seconds(pid)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                total += _cpu_seconds(int(stat.parent.name))
    return total


def _send(port: int, batch: list[tuple[str, bytes]], per_session: int, errors: list[str]) -> None:
    for start in range(0, len(batch), per_session):
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
            for sender, raw in batch[start : start + per_session]:
                try:
                    client.sendmail(sender, [f"billing@{DOMAIN}"], raw)
                except smtplib.SMTPException as exc:
                    errors.append(repr(exc))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=4, help="SMTP sessions in parallel")
    parser.add_argument("--per-session", type=int, default=50, help="messages per SMTP session")
    parser.add_argument("--task-workers", type=int, default=2, help="billingdesk worker procs")
    parser.add_argument(
        "--listener-processes", type=int, default=2, help="mail-in --processes (one per core)"
    )
    parser.add_argument("--no-process", action="store_true", help="measure the intake only")
    parser.add_argument(
        "--process-seconds", type=float, default=30, help="how long to let the workers run"
    )
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "billingdesk.config.settings",
            "BILLINGDESK_DATA_DIR": os.environ.get("BILLINGDESK_DATA_DIR", tmp),
            "BILLINGDESK_LOG_LEVEL": "WARNING",
            "BILLINGDESK_INBOUND_DOMAIN": DOMAIN,
            "BILLINGDESK_INBOUND_RATE_PER_HOUR": "1000000",
            "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        }
        subprocess.run([PYTHON, "-m", "billingdesk", "migrate", "-v", "0"], env=env, check=True)
        os.environ.update(env)
        sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
        import django
        from django.db import connections

        django.setup()
        from django_tasks_db.models import DBTaskResult

        from billingdesk.helpdesks.models import HelpdeskConnection
        from billingdesk.inbound.models import InboundMessage

        InboundMessage.objects.all().delete()
        DBTaskResult.objects.all().delete()
        HelpdeskConnection.objects.filter(name="bench zendesk").delete()
        connections.close_all()

        messages = _messages(args.messages)
        port = 19000 + os.getpid() % 1000
        listener = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "billingdesk",
                "mail-in",
                "--port",
                str(port),
                "--processes",
                str(args.listener_processes),
            ],
            env=env,
        )
        stack.callback(listener.wait, timeout=10)
        stack.callback(listener.terminate)
        _wait_port(port, listener)

        errors: list[str] = []
        shares = [messages[i :: args.connections] for i in range(args.connections)]
        threads = [
            threading.Thread(target=_send, args=(port, share, args.per_session, errors))
            for share in shares
        ]
        time.sleep(2)  # the other listener processes start after the first one
        cpu_before = _listener_cpu(listener.pid)
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        intake_s = time.perf_counter() - started
        listener_cpu = _listener_cpu(listener.pid) - cpu_before
        stored = InboundMessage.objects.count()
        queued = DBTaskResult.objects.count()
        result: dict[str, object] = {
            "database": connections["default"].vendor,
            "messages": args.messages,
            "connections": args.connections,
            "per_session": args.per_session,
            "listener_processes": args.listener_processes,
            "refused": len(errors),
            "stored": stored,
            "jobs_queued": queued,
            "intake_seconds": round(intake_s, 2),
            "stored_per_second": round(stored / intake_s, 1),
            # near intake_seconds: the listener is bound by its one core (or its share of it)
            "listener_cpu_seconds": round(listener_cpu, 2),
        }
        if errors:
            result["first_error"] = errors[0]

        if not args.no_process:
            from tests.fakes.helpdesks import ZendeskFake

            fake = stack.enter_context(ZendeskFake(email="bot@bench.example", token="zd-bench"))
            HelpdeskConnection.objects.create(
                name="bench zendesk",
                kind="zendesk",
                settings={
                    "subdomain": "bench",
                    "api_email": "bot@bench.example",
                    "api_base": fake.url,
                },
                secrets={"api_token": "zd-bench"},
            )
            connections.close_all()
            workers = [
                subprocess.Popen([PYTHON, "-m", "billingdesk", "worker"], env=env)
                for _ in range(args.task_workers)
            ]
            for w in workers:
                stack.callback(w.wait, timeout=30)
                stack.callback(w.terminate)
            began = time.perf_counter()
            waiting = stored
            while waiting:
                time.sleep(0.5)
                waiting = InboundMessage.objects.filter(status="received").count()
                connections.close_all()
                if time.perf_counter() - began > args.process_seconds:
                    break
            process_s = time.perf_counter() - began
            done = InboundMessage.objects.filter(status="ticketed").count()
            failed = InboundMessage.objects.filter(status="failed").count()
            result.update(
                {
                    "task_workers": args.task_workers,
                    "ticketed": done,
                    "failed": failed,
                    "helpdesk_tickets": len(fake.tickets),
                    "process_seconds": round(process_s, 2),
                    "ticketed_per_second": round(done / process_s, 1),
                }
            )
        result["machine"] = (
            f"{platform.machine()} {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
            f"Python {platform.python_version()}"
        )
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
