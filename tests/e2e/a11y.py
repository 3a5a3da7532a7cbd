"""Automated accessibility check of a page in the browser tests: axe-core (vendored,
``vendor/axe.min.js``) injected by Playwright and run against WCAG 2.1 A and AA rules.

``axe_check(page)`` fails the test with every serious or critical violation (rule, impact,
the offending elements); minor and moderate findings are returned for the caller to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


def axe_run(page: Any) -> list[dict[str, Any]]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary)}))",
        TAGS,
    )
    return list(result)


def axe_check(page: Any) -> list[dict[str, Any]]:
    """Run axe on the page; assert no serious or critical violation. Returns the rest."""
    violations = axe_run(page)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"accessibility violations on {page.url}: {blocking}"
    return violations
