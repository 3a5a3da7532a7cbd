"""Customer billing pages: what a merchant's customer sees of their own billing, in their
language, opened from a signed link (issue 14, capability 6 of the brief)."""
