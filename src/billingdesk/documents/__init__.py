"""Invoices, receipts and credit notes: tax, gapless numbering, PDF/A-3 + Factur-X, email."""
