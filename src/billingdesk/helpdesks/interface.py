"""What a helpdesk connector is and can do, in typed terms shared by every helpdesk.

A *provider* describes one helpdesk product (Zendesk, Help Scout…): which settings and secrets a
connection needs, which origins frame its panel, how its proof is checked and whether that proof
vouches for the agent. A *connection* (``models.HelpdeskConnection``) is one configured helpdesk
account. A *ticket client* talks to the helpdesk's API for one connection; vendor HTTP lives only
in each package's ``client.py``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from django.urls import URLPattern, URLResolver

    from billingdesk.helpdesks.models import HelpdeskConnection


class EmbedFamily(StrEnum):
    """How the panel reaches the agent (reference §1.1)."""

    IFRAME = "iframe"  # our page inside the helpdesk's page: launch-token handshake
    SERVER = "server"  # the helpdesk calls us with a signed body and renders what we return
    HOSTED = "hosted"  # the helpdesk hosts an app package that calls our API


@dataclass(frozen=True, slots=True)
class Setting:
    """One field of a connection: a plain setting or a secret (stored encrypted)."""

    name: str
    help: str
    required: bool = True
    pattern: str = ""  # a regular expression the whole value must match (settings only)


@dataclass(frozen=True, slots=True)
class Launch:
    """What a verified proof tells us about who is looking and at whom.

    ``agent_email`` is set only when the helpdesk vouched for the agent in the signed proof;
    ``customer_email`` only when the proof itself carried it. Anything learnt client-side
    afterwards (ZAF ``client.get``, Front context, Chatwoot postMessage) is a hint.
    """

    agent_email: str = ""
    agent_name: str = ""
    customer_email: str = ""
    conversation_id: str = ""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to put on a ticket (already checked for card numbers by whoever made it)."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class TicketDraft:
    """A ticket to create (or a message to add to ``ticket_id``) for a customer."""

    subject: str
    requester_email: str
    requester_name: str = ""
    message: str = ""
    ticket_id: str = ""  # existing ticket/conversation: add the note there
    external_id: str = ""  # our idempotency key (source message id…)
    tags: tuple[str, ...] = ("billing",)


@dataclass(frozen=True, slots=True)
class Note:
    """A private note: the same content as HTML and as Markdown (helpdesks take one or other)."""

    html: str
    markdown: str
    # Files on the note, where the helpdesk's API takes them (``TicketClient.attachment_limit``).
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class TicketRef:
    ticket_id: str
    url: str = ""
    created: bool = True


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    ok: bool
    detail: str
    extra: dict[str, str] = field(default_factory=dict)


class TicketClient(ABC):
    """A helpdesk's ticket API for one connection.

    Raises ``AuthenticationFailed`` when the credentials are refused, ``InvalidRequest`` when
    the helpdesk refuses the content, ``RateLimited``/``GatewayUnavailable`` on 429/5xx.
    """

    # Total bytes of files one note may carry through this API; 0: it cannot take files.
    attachment_limit: ClassVar[int] = 0

    def __init__(self, connection: HelpdeskConnection) -> None:
        self.connection = connection

    def ticket_find(self, draft: TicketDraft) -> TicketRef | None:
        """The ticket an earlier ``ticket_create`` of this draft opened (found by its
        ``external_id``), or None: not there, or this helpdesk cannot be searched by it.

        Asked only when a create may have happened and not been recorded (a crash between
        the two), so that the retry adds to that ticket instead of opening a second one.
        """
        return None

    @abstractmethod
    def ticket_create(self, draft: TicketDraft) -> TicketRef:
        """Open a ticket (conversation) with the customer's message as its first message."""

    @abstractmethod
    def note_add(self, ticket_id: str, note: Note) -> str:
        """Add a private note (internal comment) to a ticket; return the note's id ('' if none)."""

    @abstractmethod
    def check(self) -> ConnectionCheck:
        """A harmless authenticated read proving the credentials work."""


class Provider(ABC):
    """One helpdesk product."""

    kind: ClassVar[str]
    display_name: ClassVar[str]
    family: ClassVar[EmbedFamily]
    # Whether the signed proof names the agent looking (reference §0 "Agent identity trusted?").
    vouches_for_agent: ClassVar[bool] = False
    settings: ClassVar[tuple[Setting, ...]] = ()
    secrets: ClassVar[tuple[Setting, ...]] = ()
    client_class: ClassVar[type[TicketClient] | None] = None
    doc: ClassVar[str] = ""  # docs/helpdesks/<name>.md
    # The dotted path of the module whose ``urlpatterns`` are the provider's own addresses
    # (the launch endpoint the helpdesk calls), mounted by ``helpdesks.urls`` in the
    # ``helpdesks`` namespace through the registry: a provider package, built in or installed,
    # brings its URLs with it.
    urlconf: ClassVar[str | None] = None

    def url_patterns(self) -> list[URLPattern | URLResolver]:
        if not self.urlconf:
            return []
        patterns: list[URLPattern | URLResolver] = import_module(self.urlconf).urlpatterns
        return patterns

    def default_frame_origins(self, connection: HelpdeskConnection) -> list[str]:
        """Origins allowed to frame the panel when the connection lists none."""
        return []

    def client(self, connection: HelpdeskConnection) -> TicketClient | None:
        return self.client_class(connection) if self.client_class else None

    def settings_errors(self, values: dict[str, Any]) -> list[str]:
        """Why these settings cannot be used (unknown names, values of the wrong shape)."""
        known = {s.name: s for s in self.settings}
        errors = [
            f"{self.display_name} has no setting {name!r} (settings: {', '.join(sorted(known))})"
            for name in values
            if name not in known
        ]
        for setting in self.settings:
            value = str(values.get(setting.name) or "")
            if not value:
                if setting.required:
                    errors.append(
                        f"{self.display_name} needs the setting {setting.name}: {setting.help}"
                    )
            elif setting.pattern and not re.fullmatch(setting.pattern, value):
                errors.append(f"{setting.name} {value[:60]!r} is not valid: {setting.help}")
        return errors
