"""Layout: the lines-table headers are measured and wrapped, and never overlap, in every
language."""

from __future__ import annotations

import itertools

import pytest

from billingdesk.documents.render.labels import LANGUAGES
from billingdesk.documents.render.layout import COLUMNS, MARGIN, fonts, table_header
from billingdesk.documents.render.pdfwriter import A4

WIDTH = A4[0] - 2 * MARGIN


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_two_column_headers_overlap(lang):
    _, bold = fonts()
    boxes = table_header(lang, bold, WIDTH)
    assert [b.key for b in boxes] == [c[0] for c in COLUMNS]
    for box, (_, start, end, _) in zip(boxes, COLUMNS, strict=True):
        # Each header stays inside its own column slot...
        assert WIDTH * start <= box.left < box.right <= WIDTH * end, (lang, box)
    for before, after in itertools.pairwise(boxes):
        # ... so horizontally consecutive boxes are apart.
        assert before.right < after.left, (lang, before, after)


def test_a_long_header_wraps_onto_two_lines_instead_of_overlapping():
    _, bold = fonts()
    boxes = {b.key: b for b in table_header("es", bold, WIDTH)}
    assert len(boxes["unit_price"].lines) == 2  # "Precio unitario sin IVA"
    assert " ".join(boxes["unit_price"].lines) == "Precio unitario sin IVA"
