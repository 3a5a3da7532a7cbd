"""Card numbers (PANs) in customers' text: found and masked before anything is stored.

A candidate is a run of 13-19 digits, whole or in groups separated by single spaces or
dashes (``4242 4242 4242 4242``, ``5555-5555-5555-4444``), starting with a card brand's first
digit (2-6) and passing the Luhn check. A run of groups may hold more than the card (``4111
1111 1111 1111 123`` with the CVC after it): the longest run of whole groups that is a valid
card is masked. Only the last four digits are kept (PCI DSS allows at most the first six and
the last four).
"""

from __future__ import annotations

import re

_RUN = re.compile(r"(?<![\d+])\d+(?:[ -]\d+)*(?!\d)")
_SEP = re.compile(r"[ -]")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _is_card(digits: str) -> bool:
    if not 13 <= len(digits) <= 19 or (digits[0] not in "3456" and not _mastercard2(digits)):
        return False
    return luhn_valid(digits)


def _mastercard2(digits: str) -> bool:
    return digits[0] == "2" and 2221 <= int(digits[:4]) <= 2720


def mask(last4: str) -> str:
    return f"[card number removed, ending {last4}]"


def _redact_run(run: str) -> tuple[str, int]:
    groups = _SEP.split(run)
    seps = _SEP.findall(run)
    out: list[str] = []
    found = 0
    i = 0
    while i < len(groups):
        best = 0
        digits = ""
        for j in range(i, len(groups)):
            digits += groups[j]
            if len(digits) > 19:
                break
            if _is_card(digits):
                best = j + 1
        if best:
            card = "".join(groups[i:best])
            out.append(mask(card[-4:]))
            found += 1
            if best < len(groups):
                out.append(seps[best - 1])
            i = best
        else:
            out.append(groups[i])
            if i < len(seps):
                out.append(seps[i])
            i += 1
    return "".join(out), found


def redact(text: str) -> tuple[str, int]:
    """The text with every card number masked, and how many were."""
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        new, found = _redact_run(match.group(0))
        count += found
        return new

    return _RUN.sub(replace, text), count


def contains_pan(text: str) -> bool:
    return redact(text)[1] > 0
