"""Disputes answered from the helpdesk (issue 21).

A dispute mirrored from a gateway's webhook is surfaced at once (a banner on the person's panel
and console page, a list for finance with the deadlines); an evidence packet is assembled from
what billingdesk already holds (the charge, its documents, the billing details, the
subscription, the customer's messages in the linked helpdesk tickets, the agents' actions in the
audit log, refunds and credit notes, the refund policy) into one PDF plus the gateway's text
fields mapped by dispute reason; an agent reviews it, edits the cover text and submits it (or
accepts the dispute) through the action service, audited and idempotent. Reminders go out
before the deadline; nothing is ever submitted without a person.

Modules: ``models`` (policies, cases, packets), ``mapping`` (reason → evidence fields and cover
text), ``packet`` (assembly), ``pdf`` (rendering and merging), ``selectors`` (reads),
``services`` (writes), ``views`` (screens), ``reminders`` (deadline notices).
"""
