"""A test-only Django app for crash tests with real worker processes (tests/test_worker_crash.py).

Loaded by ``tests.fakes.crash_settings`` only, in the worker processes those tests start:

- the ``slow`` gateway: the sandbox connector (its objects live in the shared database, so
  every process sees them), with small pages and a pause per page, and a file telling the
  test which process is walking the backfill;
- with ``BD_HANG_FIRST_DRAIN=<path>``, the first worker to start a webhook drain creates
  that file (with its pid) and hangs right there, before the drain's first transaction, so
  the test can kill it exactly "after claiming a drain job, before the flag clear commits".
"""
