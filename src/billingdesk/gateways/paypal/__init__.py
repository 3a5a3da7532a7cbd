"""PayPal gateway connector (a Django app so it registers itself at start-up)."""
