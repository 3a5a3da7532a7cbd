from __future__ import annotations

import json
import os
import time
from typing import Any

from django.apps import AppConfig


def _hang_first_drain(sender: Any, task_result: Any, **kwargs: Any) -> None:
    path = os.environ.get("BD_HANG_FIRST_DRAIN")
    if not path or not task_result.task.module_path.endswith("webhook_account_drain"):
        return
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return  # someone already hung: this one drains
    os.write(fd, json.dumps({"pid": os.getpid(), "ppid": os.getppid()}).encode())
    os.close(fd)
    while True:  # until killed
        time.sleep(1)


class CrashAppConfig(AppConfig):
    name = "tests.fakes.crash_app"
    label = "crash_app"

    def ready(self) -> None:
        from django_tasks.signals import task_started

        from billingdesk.gateways import registry
        from tests.fakes.crash_app.connector import SlowConnector

        registry.register(SlowConnector)
        task_started.connect(_hang_first_drain, dispatch_uid="crash-app-hang")
