# SPDX-License-Identifier: GPL-3.0-or-later
# This file imports and patches localstripe (GPL-3.0-or-later, Copyright 2017 Adrien Vergé),
# so it is under localstripe's license. It is a benchmark tool only: it is not part of the
# billingdesk package and nothing in src/ imports it.
"""localstripe with its object lists indexed by type: the benchmark's Stripe-compatible server.

    python bench/localstripe_fast.py --port 8420 --from-scratch   # as `python -m localstripe`

localstripe keeps every object in one dict and, to list objects of one type, scans all of
it (``StripeObject._api_list_all``). Rendering a charge lists its refunds three times
(``refunds``, ``amount_refunded``, ``refunded``), so a page of 100 charges scans the whole
store 300 times: its cost grows with the square of the data, and at 200 customers x 5
charges it is most of the time any client spends reading charges. It also pickles the whole
store to a fixed path after every write, so seeding is quadratic too.

This launcher changes only those two things, before starting localstripe's own server:

* a per-type dict kept beside the store, in the store's own insertion order, so a listing
  returns the same objects in the same order without looking at other types;
* no pickling to disk (the benchmark starts from scratch and never restarts the server).

Every answer is otherwise localstripe's own code. ``indexed_listing_matches`` checks the
first claim on the live store; the benchmark asks for it (``GET /_config/index-check``) after
every pass.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from localstripe import resources, server


def _type_of(key: str) -> str | None:
    name, sep, _ = key.partition(":")
    return name if sep else None


class IndexedStore(resources.Store):
    """The store, plus ``by_type``: object type → {key: object}, kept in step on every write."""

    by_type: dict[str, dict[str, Any]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_type = {}
        for key, value in self.items():
            self._index(key, value)

    def _index(self, key: str, value: Any) -> None:
        name = _type_of(key)
        if name is not None:
            self.by_type.setdefault(name, {})[key] = value

    def __setitem__(self, key: str, value: Any) -> None:
        dict.__setitem__(self, key, value)
        self._index(key, value)

    def __delitem__(self, key: str) -> None:
        dict.__delitem__(self, key)
        name = _type_of(key)
        if name is not None:
            del self.by_type[name][key]

    def clear(self) -> None:
        dict.clear(self)
        self.by_type.clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def dump_to_disk(self) -> None:
        """Not kept on disk: the benchmark's server lives for one run."""


def _list_all(cls: Any, url: Any, limit: Any = None, starting_after: Any = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    """``StripeObject._api_list_all`` reading the type's own dict instead of the whole store."""
    if kwargs:
        raise resources.UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
    li = resources.List(url, limit=limit, starting_after=starting_after)
    li._list = list(store.by_type.get(cls.object, {}).values())
    return li


store = IndexedStore()


def install() -> None:
    """Swap the indexed store into localstripe's modules (they share one ``store`` object)."""
    for module in (resources, server):
        module.store = store  # type: ignore[attr-defined]
    resources.StripeObject._api_list_all = classmethod(_list_all)  # type: ignore[assignment]


def indexed_listing_matches() -> list[str]:
    """Types whose indexed listing differs from localstripe's own scan of the store (none)."""
    differing = []
    for name in {t for t in map(_type_of, store.keys()) if t}:
        scanned = [v for k, v in store.items() if k.startswith(name + ":")]
        if scanned != list(store.by_type.get(name, {}).values()):
            differing.append(name)
    return sorted(differing)


async def _index_check(request: web.Request) -> web.Response:
    return web.json_response({"objects": len(store), "differing_types": indexed_listing_matches()})


if __name__ == "__main__":
    install()
    server.app.router.add_get("/_config/index-check", _index_check)
    server.start()
