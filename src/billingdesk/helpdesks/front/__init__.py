"""front helpdesk integration (see docs/helpdesks/front.md)."""
