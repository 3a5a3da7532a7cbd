"""Which billingdesk user a helpdesk agent acts as.

Only two ways, both configured by an administrator on the connection:

1. an explicit ``HelpdeskAgentLink`` (the agent's id in the helpdesk, or its email) → user;
2. the agent's email, when the helpdesk's *signed* proof names it, the provider vouches for
   agents, and its domain is one of the connection's ``agent_email_domains``: the single
   active user with that email, never a superuser (a superuser is reached only by a link).

An email that merely matches a user is not enough: any Intercom workspace member, or anyone
able to sign an iframe URL, could otherwise name a billingdesk admin's address and act as it.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q

from billingdesk.helpdesks.models import HelpdeskAgentLink, HelpdeskConnection
from billingdesk.helpdesks.registry import provider_for


def agent_user_resolve(
    connection: HelpdeskConnection, *, email: str = "", agent_id: str = ""
) -> AbstractBaseUser | None:
    """The billingdesk user this (vouched-for) agent acts as, or None (read-only)."""
    # Exactly the address (only case folded): ``ana+x@`` is not ``ana@`` for who acts.
    email = (email or "").strip().lower()
    if email.count("@") != 1 or len(email) > 254:
        email = ""
    agent_id = (agent_id or "").strip()
    if not (email or agent_id):
        return None
    match = Q()
    if agent_id:
        match |= Q(agent_id=agent_id)
    if email:
        match |= Q(agent_id="", agent_email__iexact=email)
    links = list(
        HelpdeskAgentLink.objects.filter(match, connection=connection, user__is_active=True)
        .select_related("user")
        .order_by("-agent_id")[:2]  # a link by id outranks one by email
    )
    if links:
        return links[0].user  # type: ignore[no-any-return]
    if not email or not provider_for(connection.kind).vouches_for_agent:
        return None
    domain = email.rpartition("@")[2]
    allowed = {str(d).lower() for d in (connection.agent_email_domains or [])}
    if domain not in allowed:
        return None
    users = list(
        get_user_model().objects.filter(email__iexact=email, is_active=True, is_superuser=False)[:2]
    )
    return users[0] if len(users) == 1 else None
