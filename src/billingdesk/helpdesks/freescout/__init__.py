"""FreeScout helpdesk integration (see docs/helpdesks/freescout.md)."""
