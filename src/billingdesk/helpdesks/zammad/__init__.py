"""Zammad helpdesk integration (see docs/helpdesks/zammad.md)."""
