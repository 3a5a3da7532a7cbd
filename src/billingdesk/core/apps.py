import os
from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


def sqlite_file_private(name: str) -> None:
    """Create the SQLite file owner-only (0600), and tighten an existing one we own.

    It holds customers' personal data; SQLite would create it 0644 (umask 022), and its
    -wal and -shm files take the database file's permissions. Run at start-up (``ready``),
    before any connection opens, rather than when the settings are imported: importing the
    settings only reads.
    """
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # an empty file is a new database
    if path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
        path.chmod(0o600)


class CoreConfig(AppConfig):
    name = "billingdesk.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        database = settings.DATABASES["default"]
        if database["ENGINE"] == "django.db.backends.sqlite3":
            sqlite_file_private(str(database["NAME"]))

        from django.urls import register_converter

        from billingdesk.core.parsing import IdConverter

        # ``<id:…>``: database ids in URLs, bounded to 63 bits (before any URLconf loads).
        register_converter(IdConverter, "id")
