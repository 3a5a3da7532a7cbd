"""helpscout helpdesk integration (see docs/helpdesks/helpscout.md)."""
