"""Admin helpers shared by every app's admin (the kernel's, so no app imports another's admin).

Built for tables of millions of rows: search by exact value on indexed columns, a count that
stops at 10 000 rows, and rows that are viewable but never edited.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, ClassVar

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest


class ExactSearchAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Search by equality on the listed (indexed) columns, the whole term as one value.

    Django's default search splits the term on spaces and runs ``icontains`` on every column,
    which reads the whole table; support staff paste an email, an id or a last 4 instead.
    ``search_normalizers`` maps a column name to how a term is turned into the value that
    column holds (an email lower-cased, a phone in E.164…).
    """

    search_normalizers: ClassVar[dict[str, Callable[[str], str]]] = {}

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = Q()
        for name in self.get_search_fields(request):
            normalizer = self.search_normalizers.get(name.rsplit("__", 1)[-1])
            value = normalizer(term) if normalizer else term
            if value:
                condition |= Q(**{name: value})
        if not condition:
            return queryset.none(), False
        return queryset.filter(condition), False


class CappedCountPaginator(Paginator):  # type: ignore[type-arg]
    """Counts at most ``CAP`` rows: ``COUNT(*)`` over millions of rows takes seconds on every
    page view, and nobody pages through more than a few hundred pages anyway."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        objects = self.object_list
        if isinstance(objects, QuerySet):
            return int(objects[: self.CAP].count())
        return min(len(objects), self.CAP)


class ReadOnlyMixin:
    """Viewable, never added, changed or deleted through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
