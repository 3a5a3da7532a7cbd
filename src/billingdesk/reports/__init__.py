"""Reports finance trusts: revenue, subscriptions (MRR), tax from the issued documents,
refunds by agent and the audit trail, as pages for finance and as CSV."""
