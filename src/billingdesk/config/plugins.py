"""Apps enabled by configuration: third-party gateway connectors and helpdesk providers.

billingdesk's settings are never edited per installation. A connector shipped as a Python
package is enabled either

* by naming its Django app in ``BILLINGDESK_EXTRA_APPS`` (comma separated), or
* by the package itself, declaring its app in one of the entry-point groups
  ``billingdesk.gateways`` / ``billingdesk.helpdesks`` (``pip install`` is then enough):

      [project.entry-points."billingdesk.gateways"]
      acmepay = "acmepay_billingdesk"

The app's ``AppConfig.ready`` registers its connector, as billingdesk's own apps do.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from importlib.util import find_spec

from billingdesk.config.env import env_list

GROUPS = ("billingdesk.gateways", "billingdesk.helpdesks")


def extra_apps() -> tuple[list[str], list[str]]:
    """(apps to install, names that cannot be found), in configuration order, no duplicates."""
    names = env_list("BILLINGDESK_EXTRA_APPS")
    for group in GROUPS:
        names += [ep.value for ep in entry_points(group=group)]
    found: list[str] = []
    missing: list[str] = []
    for name in dict.fromkeys(names):
        (found if _importable(name) else missing).append(name)
    return found, missing


def _importable(name: str) -> bool:
    module = name
    try:
        if find_spec(module) is not None:
            return True
    except (ImportError, ValueError):
        pass
    # An AppConfig path ("package.apps.PackageConfig") names a class, not a module.
    module = name.rpartition(".")[0]
    try:
        return bool(module) and find_spec(module) is not None
    except (ImportError, ValueError):
        return False
