"""The ``serve``, ``worker`` and ``demo`` commands."""
