"""What gets indexed for a room event, shared by the backends (lexical text) and the service (embedding).

An event is searched through two texts built from the same **head**: ``[8 May 2023] Caroline: <content>``
(its date, its sender, its content), so a question that names the person or the time finds it.

- The embedding is of the head alone (``event_head``). Measured on LoCoMo (``bench/locomo_retrieval.py``):
  adding the date and sender to the embedded text lifts dense recall@10 from 0.30 to 0.51; adding the
  previous turn as well lowers it to 0.47, so neighbours stay out of the vector.
- The lexical text (FTS5 / PostgreSQL full text) is the head followed by the heads of its neighbours in
  the room's timeline: up to ``CONTEXT_BEFORE`` events before it and ``CONTEXT_AFTER`` after it
  (``event_document``). A reply ("Yes, last Friday!") is then found by the words of the question it
  answers. Measured on LoCoMo: lexical recall@10 0.635 without neighbours, 0.686 with one before,
  0.704 with two on each side; three on each side is worse again.

A neighbour joins the window only when it is close in time (``CONTEXT_MAX_GAP``: a different
conversation sitting in the same room is not context) and no more sensitive than the event itself
(``sensitivity_level`` at most the event's), so a caller who may see the event may see every word that
ranked it: the window never leaks an item above the caller's clearance into the ranking.

Each backend keeps the lexical text current: appending event ``n`` writes its document with the window
known so far and rewrites the documents of the ``CONTEXT_AFTER`` events before it, all in the append's
transaction. The embedding of an event never changes after it is written.

At query time, an event whose sender the query names (``names_sender``: "What did Caroline paint?")
has its fused score multiplied by ``1 + SearchRequest.sender_boost`` (``SENDER_BOOST`` = 0.25 by
default): with every neighbour's sender in the lexical text, the name alone no longer tells whose turn
it was. Tuned on LoCoMo 26 and 30 among 0.1 / 0.25 / 0.5; on the held-out 41-43 it lifts recall@10 from
0.755 to 0.781 and hit@10 from 0.824 to 0.853.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.text import STOPWORDS

__all__ = [
    "CONTEXT_AFTER",
    "CONTEXT_BEFORE",
    "CONTEXT_MAX_GAP",
    "SENDER_BOOST",
    "EventText",
    "event_document",
    "event_head",
    "names_sender",
    "sender_label",
    "window_documents",
]

#: Events before / after an event whose heads join its lexical text (see the module docstring).
CONTEXT_BEFORE = 2
CONTEXT_AFTER = 2

#: Largest time distance between an event and a neighbour of its window.
CONTEXT_MAX_GAP = timedelta(hours=6)

#: Default score lift of events whose sender the query names (see the module docstring).
SENDER_BOOST = 0.25

_WORD = re.compile(r"\w+", re.UNICODE)


def sender_label(display_name: str | None, address: str | None, agent: str | None) -> str | None:
    """Who wrote an event, as indexed: the sender identity's display name, else its first address, else
    the writing agent, else ``None``."""
    for candidate in (display_name, address, agent):
        if candidate and candidate.strip():
            return candidate.strip()
    return None


def names_sender(query: str, label: str | None) -> bool:
    """True when a word of the sender ``label`` (3+ characters, not a stopword) is a word of ``query``,
    case-insensitively: ``names_sender("What did Jon say?", "Jon Smith")`` is True."""
    if not label:
        return False
    words = {w for w in _WORD.findall(label.lower()) if len(w) >= 3 and w not in STOPWORDS}
    return bool(words) and not words.isdisjoint(_WORD.findall(query.lower()))


def event_head(content: str, *, sender: str | None, occurred_at: datetime) -> str:
    """The indexed head of one event: ``[8 May 2023] Caroline: <content>`` (no sender part without one).

    Args:
        content: the event's content.
        sender: ``sender_label(...)`` of the event.
        occurred_at: tz-aware; the date is written in UTC, day month-name year.
    """
    date = f"[{occurred_at.day} {occurred_at.strftime('%B %Y')}]"
    return f"{date} {sender}: {content}" if sender else f"{date} {content}"


@dataclass(frozen=True)
class EventText:
    """What a backend reads to build windows: one event's index, time, clearance level and head."""

    index: int
    occurred_at: datetime
    sensitivity_level: int
    head: str


def event_document(event: EventText, neighbours: Sequence[EventText]) -> str:
    """The lexical text of ``event``: its head, then the heads of the neighbours that belong in its window.

    Args:
        event: the event being indexed.
        neighbours: events of the same room (any order, may include ``event`` itself and events outside
            the window: they are skipped).

    Returns:
        Heads joined by newlines: ``event``'s first, then the window's in timeline order.
    """
    window = sorted(
        (
            n
            for n in neighbours
            if n.index != event.index
            and event.index - CONTEXT_BEFORE <= n.index <= event.index + CONTEXT_AFTER
            and n.sensitivity_level <= event.sensitivity_level
            and abs(n.occurred_at - event.occurred_at) <= CONTEXT_MAX_GAP
        ),
        key=lambda n: n.index,
    )
    return "\n".join([event.head, *(n.head for n in window)])


def window_documents(events: Sequence[EventText], new_index: int) -> dict[int, str]:
    """Lexical texts to (re)write after appending the event at ``new_index``: its own and those of the
    ``CONTEXT_AFTER`` events before it, keyed by index.

    Args:
        events: the room's events with index in
            ``[new_index - CONTEXT_AFTER - CONTEXT_BEFORE, new_index]`` (others are ignored).
        new_index: index of the event just appended.
    """
    by_index = {e.index: e for e in events}
    return {
        i: event_document(by_index[i], events)
        for i in range(new_index - CONTEXT_AFTER, new_index + 1)
        if i in by_index
    }
