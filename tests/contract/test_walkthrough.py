"""docs/architecture.md "Adding a gateway", followed literally.

The files the walkthrough shows are written to a temporary directory exactly as printed,
the package is "installed" the way pip installs one (a ``.dist-info`` with its entry
points, on the path), and the contract suite runs against the new connector in a separate
process, with nothing in billingdesk's settings or tests edited.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
_BLOCK = re.compile(r"<!-- walkthrough: (?P<path>\S+) -->\n```\w*\n(?P<body>.*?)```", re.S)


def walkthrough_files() -> dict[str, str]:
    section = DOC.read_text().split("## Adding a gateway", 1)[1].split("\n## ", 1)[0]
    return {m["path"]: m["body"] for m in _BLOCK.finditer(section)}


def install(files: dict[str, str], site: Path) -> None:
    """What ``pip install`` leaves behind: the package, and its metadata with entry points."""
    for name, body in files.items():
        if name.endswith(".py"):
            (site / name).parent.mkdir(parents=True, exist_ok=True)
            (site / name).write_text(body)
    project = tomllib.loads(files["pyproject.toml"])["project"]
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    lines = []
    for group, points in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {value}" for name, value in points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


def test_the_walkthrough_shows_every_module_of_the_package_shape() -> None:
    files = walkthrough_files()
    assert {
        "acmepay_billingdesk/__init__.py",
        "acmepay_billingdesk/apps.py",
        "acmepay_billingdesk/client.py",
        "acmepay_billingdesk/mapping.py",
        "acmepay_billingdesk/connector.py",
        "acmepay_billingdesk/contract.py",
        "pyproject.toml",
    } <= set(files)


def test_a_connector_added_by_following_the_walkthrough_passes_the_contract_suite(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install(walkthrough_files(), site)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLINGDESK_")}
    if env.get("DATABASE_URL", "").startswith("postgres"):
        # The same server, another test database than this run's (which is in use).
        env["DATABASE_URL"] = env["DATABASE_URL"].rstrip("/") + "_walkthrough"
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(site)]),
        BILLINGDESK_DATA_DIR=str(tmp_path / "var"),
        BILLINGDESK_CONTRACT_HARNESSES="acmepay_billingdesk.contract:AcmeHarness",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(ROOT / "tests" / "contract" / "test_gateway_contract.py"),
            "-k",
            "acmepay",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", summary)[1])  # type: ignore[index]
    assert passed >= 20 and "failed" not in summary and "skipped" not in summary
