"""The kinds of memory the team shares, learning signals among them.

Learning signals record what agents learn from outcomes so the team can retrieve it by context later
(``search_memory`` with ``kinds``, ``tags`` and ``metadata`` filters):

- ``success``: an approach that worked (e.g. "offering a payment plan closed the refund dispute").
- ``failure``: an approach that did not, and why.
- ``pattern``: a regularity seen across cases ("enterprise clients ask for invoices in EUR").
- ``recommendation``: advice for the next agent in a similar context.

Put the context in ``tags`` (``refund``, ``enterprise``) and ``metadata`` (``{"customer_tier": "gold"}``)
so a later search can filter on it.
"""

from __future__ import annotations

__all__ = ["LEARNING_SIGNALS", "MEMORY_KINDS", "check_kind"]

#: Outcome-based learning signals (success, failure, pattern, recommendation).
LEARNING_SIGNALS = ("success", "failure", "pattern", "recommendation")
#: Every memory kind the service accepts: general kinds, then the learning signals.
MEMORY_KINDS = ("note", "observation", "decision", "learning", *LEARNING_SIGNALS)


def check_kind(kind: str) -> str | None:
    """Return an error message when ``kind`` is not one of ``MEMORY_KINDS``, else ``None``."""
    if kind in MEMORY_KINDS:
        return None
    return f"unknown memory kind {kind!r}: use one of {', '.join(MEMORY_KINDS)}"
