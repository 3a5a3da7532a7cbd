"""The console's "Lists": charges, refunds, subscriptions, disputes, documents and agent actions
across all persons, filtered and paged.

Each list is a ``ListSpec``: the query, the date it is ordered by (newest first), and which
filters apply. Pages are keyset-paginated on ``(date, id)`` (``?after=<cursor>``) so the tenth
thousand page costs what the first does on a table of ten million rows; the ``(date, id)``
indexes the lists need are on the models. Bad filter input is a 400 with the form and the
reason, never a 500 (``ListFilterError``).

Also here: the charges of one person, paged and filtered the same way, for the person page.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db.models import F, Model, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from billingdesk.actions.models import ActionKind, ActionRequest
from billingdesk.billing.models import LISTED_AT, Charge, Dispute, Person, Refund, Subscription
from billingdesk.core.labels import label
from billingdesk.core.money import day_format, money_format, normalise_currency, parse_amount
from billingdesk.core.parsing import parse_id
from billingdesk.documents.models import Document, DocumentKind
from billingdesk.gateways.interface import (
    ChargeStatus,
    DisputeStatus,
    RefundStatus,
    SubscriptionStatus,
)
from billingdesk.gateways.models import GatewayAccount

PAGE_ROWS = 50
_MAX_FILTER_LENGTH = 64


class ListFilterError(ValueError):
    """A filter value that cannot be used; the message is shown beside the form."""


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    href: str = ""
    badge: str = ""  # a status code: the cell is shown as a coloured badge


@dataclass(frozen=True, slots=True)
class ListSpec:
    slug: str
    title: Any  # a lazy translation
    columns: tuple[Any, ...]
    queryset: Callable[[], QuerySet[Any]]
    date_field: str
    statuses: tuple[str, ...]
    row: Callable[[Any], list[Cell]]
    # Mirrored rows are dated by the gateway's creation time, or when it is unknown the
    # record's last change: ``LISTED_AT`` (the expression the models' list indexes are on).
    dated_by_expression: bool = False
    status_field: str = "status"
    amount_field: str = "amount"
    currency_field: str = "currency"
    account_field: str = "account_id"
    agent_field: str = ""


def _person_cell(person_id: int | None, name: str) -> Cell:
    if not person_id:
        return Cell("—")
    return Cell(name or f"#{person_id}", reverse("console-person", args=[person_id]))


def _when(value: datetime | None) -> Cell:
    return Cell(day_format(value) if value else "—")


def _charge_row(charge: Charge) -> list[Cell]:
    customer = charge.customer
    person_id = customer.person_id if customer else None
    name = (customer.name or customer.email) if customer else ""
    return [
        _when(charge.gateway_created_at),
        _person_cell(person_id, name),
        Cell(money_format(charge.amount, charge.currency)),
        Cell(label(charge.status, "charge"), badge=charge.status),
        Cell(charge.description or charge.product),
        Cell(charge.account.name),
        Cell(charge.gateway_id),
    ]


def _refund_row(refund: Refund) -> list[Cell]:
    customer = refund.charge.customer if refund.charge else None
    return [
        _when(refund.gateway_created_at),
        _person_cell(customer.person_id if customer else None, customer.name if customer else ""),
        Cell(money_format(refund.amount, refund.currency)),
        Cell(label(refund.status), badge=refund.status),
        Cell(label(refund.reason)),
        Cell(refund.account.name),
        Cell(refund.gateway_id),
    ]


def _subscription_row(sub: Subscription) -> list[Cell]:
    customer = sub.customer
    return [
        _when(sub.gateway_created_at),
        _person_cell(customer.person_id if customer else None, customer.name if customer else ""),
        Cell(money_format(sub.amount, sub.currency) if sub.currency else "—"),
        Cell(label(sub.status), badge=sub.status),
        Cell(sub.plan or sub.product),
        Cell(sub.account.name),
        Cell(sub.gateway_id),
    ]


def _dispute_row(dispute: Dispute) -> list[Cell]:
    customer = dispute.charge.customer if dispute.charge else None
    return [
        _when(dispute.gateway_created_at),
        _person_cell(customer.person_id if customer else None, customer.name if customer else ""),
        Cell(money_format(dispute.amount, dispute.currency)),
        Cell(label(dispute.status), badge=dispute.status),
        Cell(label(dispute.reason)),
        Cell(dispute.account.name),
        Cell(dispute.gateway_id),
    ]


def _document_row(document: Document) -> list[Cell]:
    kind = label(document.kind)
    return [
        _when(document.issued_at),
        _person_cell(document.person_id, document.person.name if document.person else ""),
        Cell(money_format(document.gross, document.currency)),
        Cell(kind),
        Cell(document.number, reverse("documents:pdf", args=[document.pk])),
        Cell(document.customer.account.name if document.customer else "—"),
        Cell(document.email_to or "—"),
    ]


def _action_row(action: ActionRequest) -> list[Cell]:
    agent = action.requested_by
    amount = money_format(action.amount, action.currency) if action.currency else "—"
    return [
        _when(action.created_at),
        _person_cell(action.person_id, action.person.name if action.person else ""),
        Cell(amount),
        Cell(label(action.status), badge=action.status),
        Cell(f"{label(action.kind, 'action')} · {label(action.reason_code)}"),
        Cell(action.account.name),
        Cell(agent.get_username() if agent else "—"),
    ]


# Rows show the account's name only: its credentials are never read (nor decrypted) here.
_ACCOUNT_SECRETS = ("account__credentials", "account__webhook_secret")

_MIRROR_COLUMNS = (
    gettext_lazy("Date"),
    gettext_lazy("Person"),
    gettext_lazy("Amount"),
    gettext_lazy("Status"),
    gettext_lazy("What"),
    gettext_lazy("Account"),
    gettext_lazy("Gateway id"),
)

SPECS: dict[str, ListSpec] = {
    spec.slug: spec
    for spec in (
        ListSpec(
            slug="charges",
            title=gettext_lazy("Charges"),
            columns=_MIRROR_COLUMNS,
            queryset=lambda: (
                Charge.objects.filter(deleted=False)
                .select_related("account", "customer")
                .defer("raw", "customer__raw", *_ACCOUNT_SECRETS)
            ),
            date_field="listed_at",
            dated_by_expression=True,
            statuses=tuple(ChargeStatus),
            row=_charge_row,
        ),
        ListSpec(
            slug="refunds",
            title=gettext_lazy("Refunds"),
            columns=(*_MIRROR_COLUMNS[:4], gettext_lazy("Reason"), *_MIRROR_COLUMNS[5:]),
            queryset=lambda: (
                Refund.objects.filter(deleted=False)
                .select_related("account", "charge__customer")
                .defer("raw", "charge__raw", "charge__customer__raw", *_ACCOUNT_SECRETS)
            ),
            date_field="listed_at",
            dated_by_expression=True,
            statuses=tuple(RefundStatus),
            row=_refund_row,
        ),
        ListSpec(
            slug="subscriptions",
            title=gettext_lazy("Subscriptions"),
            columns=(*_MIRROR_COLUMNS[:4], gettext_lazy("Plan"), *_MIRROR_COLUMNS[5:]),
            queryset=lambda: (
                Subscription.objects.filter(deleted=False)
                .select_related("account", "customer")
                .defer("raw", "customer__raw", *_ACCOUNT_SECRETS)
            ),
            date_field="listed_at",
            dated_by_expression=True,
            statuses=tuple(SubscriptionStatus),
            row=_subscription_row,
        ),
        ListSpec(
            slug="disputes",
            title=gettext_lazy("Disputes"),
            columns=(*_MIRROR_COLUMNS[:4], gettext_lazy("Reason"), *_MIRROR_COLUMNS[5:]),
            queryset=lambda: (
                Dispute.objects.filter(deleted=False)
                .select_related("account", "charge__customer")
                .defer("raw", "charge__raw", "charge__customer__raw", *_ACCOUNT_SECRETS)
            ),
            date_field="listed_at",
            dated_by_expression=True,
            statuses=tuple(DisputeStatus),
            row=_dispute_row,
        ),
        ListSpec(
            slug="documents",
            title=gettext_lazy("Documents"),
            columns=(
                gettext_lazy("Issued"),
                gettext_lazy("Person"),
                gettext_lazy("Total"),
                gettext_lazy("Document"),
                gettext_lazy("Number"),
                gettext_lazy("Account"),
                gettext_lazy("Emailed to"),
            ),
            queryset=lambda: Document.objects.select_related("person", "customer__account").only(
                "kind",
                "number",
                "issued_at",
                "gross",
                "currency",
                "email_to",
                "person__id",
                "person__name",
                "customer__id",
                "customer__account__id",
                "customer__account__name",
            ),
            date_field="issued_at",
            statuses=tuple(DocumentKind.values),
            status_field="kind",
            amount_field="gross",
            account_field="customer__account_id",
            row=_document_row,
        ),
        ListSpec(
            slug="actions",
            title=gettext_lazy("Agent actions"),
            columns=(
                gettext_lazy("Date"),
                gettext_lazy("Person"),
                gettext_lazy("Amount"),
                gettext_lazy("Status"),
                gettext_lazy("Action and reason"),
                gettext_lazy("Account"),
                gettext_lazy("Agent"),
            ),
            queryset=lambda: ActionRequest.objects.select_related(
                "account", "person", "requested_by"
            ).defer("params", *_ACCOUNT_SECRETS),
            date_field="created_at",
            statuses=tuple(ActionRequest.Status.values),
            agent_field="requested_by_id",
            row=_action_row,
        ),
    )
}


@dataclass(slots=True)
class ListFilters:
    """What the filter form asked for, already checked."""

    account: uuid.UUID | None = None
    status: str = ""
    kind: str = ""  # agent actions: which action
    start: date | None = None
    end: date | None = None
    agent: int | None = None
    currency: str = ""
    amount_min: int | None = None
    amount_max: int | None = None
    after: tuple[datetime, int] | None = None
    raw: dict[str, str] = field(default_factory=dict)


_FILTER_NAMES = (
    "account",
    "status",
    "kind",
    "from",
    "to",
    "agent",
    "currency",
    "min",
    "max",
)


def parse_filters(spec: ListSpec, params: dict[str, str]) -> ListFilters:
    """Read the filter form; ``ListFilterError`` names the first value that cannot be used."""
    raw = {name: (params.get(name) or "").strip() for name in _FILTER_NAMES}
    for name, value in raw.items():
        if len(value) > _MAX_FILTER_LENGTH:
            raise ListFilterError(_("The value of “%(name)s” is too long.") % {"name": name})
    filters = ListFilters(raw={k: v for k, v in raw.items() if v})
    if raw["account"]:
        try:
            filters.account = uuid.UUID(raw["account"])
        except ValueError:
            raise ListFilterError(_("Choose a gateway account from the list.")) from None
    if raw["status"]:
        if raw["status"] not in spec.statuses:
            raise ListFilterError(_("Choose a status from the list."))
        filters.status = raw["status"]
    if raw["kind"]:
        if spec.slug != "actions" or raw["kind"] not in ActionKind.values:
            raise ListFilterError(_("Choose an action from the list."))
        filters.kind = raw["kind"]
    filters.start = _parse_day(raw["from"], _("from"))
    filters.end = _parse_day(raw["to"], _("to"))
    if filters.start and filters.end and filters.start > filters.end:
        raise ListFilterError(_("The period ends before it starts."))
    if raw["agent"]:
        if not spec.agent_field:
            raise ListFilterError(_("This list cannot be filtered by agent."))
        filters.agent = parse_id(raw["agent"])
        if filters.agent is None:
            raise ListFilterError(_("Choose an agent from the list."))
    if raw["currency"]:
        try:
            filters.currency = normalise_currency(raw["currency"])
        except ValueError:
            raise ListFilterError(
                _("“%(code)s” is not a currency code (e.g. EUR).") % {"code": raw["currency"]}
            ) from None
    for name in ("min", "max"):
        if not raw[name]:
            continue
        if not filters.currency:
            raise ListFilterError(_("Choose a currency to filter by amount."))
        try:
            amount = parse_amount(raw[name], filters.currency)
        except ValueError as exc:
            raise ListFilterError(
                _("Amount %(which)s: %(reason)s.")
                % {
                    "which": _("from") if name == "min" else _("to"),
                    "reason": exc,
                }
            ) from None
        setattr(filters, "amount_min" if name == "min" else "amount_max", amount)
    if (
        filters.amount_min is not None
        and filters.amount_max is not None
        and filters.amount_min > filters.amount_max
    ):
        raise ListFilterError(_("The smallest amount is larger than the largest."))
    if params.get("after"):
        filters.after = decode_cursor(params["after"])
    return filters


def _parse_day(text: str, which: str) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ListFilterError(
            _("The date “%(which)s” must be written YYYY-MM-DD.") % {"which": which}
        ) from None
    if not 1970 <= day.year <= 9998:
        raise ListFilterError(_("The date “%(which)s” is out of range.") % {"which": which})
    return day


def encode_cursor(moment: datetime, pk: int) -> str:
    stamp = moment.isoformat()
    return base64.urlsafe_b64encode(f"{stamp}|{pk}".encode()).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[datetime, int]:
    """The (date, id) a page starts after; ``ListFilterError`` for anything else."""
    bad = ListFilterError(_("That page link is damaged; start again from the first page."))
    if len(text) > 120:
        raise bad
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
        stamp, _sep, number = decoded.partition("|")
        pk = parse_id(number)
        moment = datetime.fromisoformat(stamp)
    except (ValueError, UnicodeDecodeError):
        raise bad from None
    if pk is None or moment.tzinfo is None:
        raise bad
    return moment, pk


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filtered(
    spec: ListSpec, filters: ListFilters, base: QuerySet[Any] | None = None
) -> QuerySet[Any]:
    """The rows the filters keep, newest first (no cursor applied)."""
    query = base if base is not None else spec.queryset()
    when = spec.date_field
    if spec.dated_by_expression:
        query = query.annotate(listed_at=LISTED_AT)
    if filters.account is not None:
        query = query.filter(**{spec.account_field: filters.account})
    if filters.status:
        query = query.filter(**{spec.status_field: filters.status})
    if filters.kind:
        query = query.filter(kind=filters.kind)
    if filters.start:
        query = query.filter(**{f"{when}__gte": _day_start(filters.start)})
    if filters.end:
        query = query.filter(**{f"{when}__lt": _day_start(filters.end + timedelta(days=1))})
    if filters.agent is not None:
        query = query.filter(**{spec.agent_field: filters.agent})
    if filters.currency:
        query = query.filter(**{spec.currency_field: filters.currency})
    if filters.amount_min is not None:
        query = query.filter(**{f"{spec.amount_field}__gte": filters.amount_min})
    if filters.amount_max is not None:
        query = query.filter(**{f"{spec.amount_field}__lte": filters.amount_max})
    # ``(date, id)`` is unique, so pages never overlap nor skip a row.
    return query.order_by(F(when).desc(), F("pk").desc())


def _after(spec: ListSpec, query: QuerySet[Any], cursor: tuple[datetime, int]) -> QuerySet[Any]:
    """Rows after ``cursor`` in the list's order: ``date <= d AND (date < d OR id < i)``, the
    shape both databases answer with one range scan of the ``(date, id)`` index."""
    moment, pk = cursor
    when = spec.date_field
    return query.filter(Q(**{f"{when}__lte": moment}), Q(**{f"{when}__lt": moment}) | Q(pk__lt=pk))


@dataclass(frozen=True, slots=True)
class ListPage:
    rows: list[list[Cell]]
    next_cursor: str  # '' on the last page
    first: bool


def list_page(
    spec: ListSpec,
    filters: ListFilters,
    *,
    base: QuerySet[Any] | None = None,
    size: int | None = None,
) -> ListPage:
    """One page of the list: ``size`` rows (``PAGE_ROWS``) and the cursor of the next."""
    size = size or PAGE_ROWS
    query = filtered(spec, filters, base)
    if filters.after is not None:
        query = _after(spec, query, filters.after)
    records: list[Model] = list(query[: size + 1])
    more = len(records) > size
    records = records[:size]
    cursor = ""
    if more:
        last = records[-1]
        cursor = encode_cursor(getattr(last, spec.date_field), int(last.pk))
    return ListPage(
        rows=[spec.row(record) for record in records],
        next_cursor=cursor,
        first=filters.after is None,
    )


def _agents() -> list[tuple[int, str]]:
    ids = ActionRequest.objects.values_list("requested_by_id", flat=True).distinct()
    return list(User.objects.filter(pk__in=ids).order_by("username").values_list("pk", "username"))


def _page_links(path: str, filters: ListFilters, page: ListPage) -> dict[str, str]:
    links = {"first": "", "next": ""}
    if not page.first:
        links["first"] = path + ("?" + urlencode(filters.raw) if filters.raw else "")
    if page.next_cursor:
        links["next"] = path + "?" + urlencode({**filters.raw, "after": page.next_cursor})
    return links


def _render_list(
    request: HttpRequest,
    spec: ListSpec,
    *,
    base: QuerySet[Any] | None = None,
    person: Person | None = None,
) -> HttpResponse:
    """Parse the filters, fetch one page and render it; a bad filter is a 400 with the form."""
    error = ""
    page: ListPage | None = None
    params = request.GET.dict()
    raw = {key: value for key, value in params.items() if key in _FILTER_NAMES and value}
    try:
        filters = parse_filters(spec, params)
        page = list_page(spec, filters, base=base)
    except ListFilterError as exc:
        error = str(exc)
        filters = ListFilters(raw=raw)
    context = {
        "spec": spec,
        "specs": SPECS.values(),
        "person": person,
        "page": page,
        "error": error,
        "filters": filters.raw,
        "accounts": GatewayAccount.objects.order_by("name").values_list("pk", "name"),
        "statuses": [(code, label(code, spec.slug.rstrip("s"))) for code in spec.statuses],
        "kinds": [(code, label(code, "action")) for code in ActionKind.values]
        if spec.slug == "actions"
        else [],
        "agents": _agents() if spec.agent_field else [],
        "links": _page_links(request.path, filters, page) if page else {},
    }
    return render(request, "panel/lists.html", context, status=400 if error else 200)


@login_required
@require_GET
def lists(request: HttpRequest, slug: str = "charges") -> HttpResponse:
    """One of the lists across every person (every signed-in agent may look)."""
    spec = SPECS.get(slug)
    if spec is None:
        raise Http404(_("There is no list called “%(slug)s”.") % {"slug": slug[:40]})
    return _render_list(request, spec)


@login_required
@require_GET
def person_charges_page(request: HttpRequest, person_id: int) -> HttpResponse:
    """``/console/person/<id>/charges/``: every charge of one person, paged and filtered."""
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise Http404(_("No person %(id)s.") % {"id": person_id})
    spec = SPECS["charges"]
    base = spec.queryset().filter(customer__person_id=person_id)
    return _render_list(request, spec, base=base, person=person)
