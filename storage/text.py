"""Query text to lexical search terms, shared by the backends so both search the same words.

Terms are Unicode word runs (``\\w+``), lowercased, with English stopwords dropped (the stopword list of
the Snowball project, as used by NLTK and PostgreSQL's ``english`` configuration). Each backend then
stems them with its own full-text engine (FTS5 ``porter`` tokenizer; PostgreSQL ``english`` dictionary).
"""

from __future__ import annotations

import re

__all__ = ["SEALED_PREFIX", "STOPWORDS", "lexical_text", "query_terms"]

#: Content starting with this is ciphertext sealed by the service (``mcp_memory.crypto``, AES-256-GCM):
#: the store keeps it as is and leaves it out of the lexical index.
SEALED_PREFIX = "enc:v1:"


def lexical_text(content: str) -> str:
    """The text a backend puts in its lexical index for ``content``: empty for sealed content."""
    return "" if content.startswith(SEALED_PREFIX) else content


_WORD = re.compile(r"\w+", re.UNICODE)

STOPWORDS = frozenset(
    [
        "i",
        "me",
        "my",
        "myself",
        "we",
        "our",
        "ours",
        "ourselves",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "he",
        "him",
        "his",
        "himself",
        "she",
        "her",
        "hers",
        "herself",
        "it",
        "its",
        "itself",
        "they",
        "them",
        "their",
        "theirs",
        "themselves",
        "what",
        "which",
        "who",
        "whom",
        "this",
        "that",
        "these",
        "those",
        "am",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "have",
        "has",
        "had",
        "having",
        "do",
        "does",
        "did",
        "doing",
        "a",
        "an",
        "the",
        "and",
        "but",
        "if",
        "or",
        "because",
        "as",
        "until",
        "while",
        "of",
        "at",
        "by",
        "for",
        "with",
        "about",
        "against",
        "between",
        "into",
        "through",
        "during",
        "before",
        "after",
        "above",
        "below",
        "to",
        "from",
        "up",
        "down",
        "in",
        "out",
        "on",
        "off",
        "over",
        "under",
        "again",
        "further",
        "then",
        "once",
        "here",
        "there",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "both",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "no",
        "nor",
        "not",
        "only",
        "own",
        "same",
        "so",
        "than",
        "too",
        "very",
        "s",
        "t",
        "can",
        "will",
        "just",
        "don",
        "should",
        "now",
        "d",
        "ll",
        "m",
        "o",
        "re",
        "ve",
        "y",
        "ain",
        "aren",
        "couldn",
        "didn",
        "doesn",
        "hadn",
        "hasn",
        "haven",
        "isn",
        "ma",
        "mightn",
        "mustn",
        "needn",
        "shan",
        "shouldn",
        "wasn",
        "weren",
        "won",
        "wouldn",
    ]
)


def query_terms(text: str, *, max_terms: int = 32) -> list[str]:
    """Return the distinct search terms of ``text`` in order of first appearance.

    Falls back to the stopwords themselves when the text has nothing else (``"who are you"``), so a query
    never becomes empty just because it is made of common words.

    Args:
        text: the user's query.
        max_terms: cap on the number of terms (long queries are cut, not rejected).
    """
    words = [w.lower() for w in _WORD.findall(text)]
    kept = [w for w in words if w not in STOPWORDS] or words
    seen: dict[str, None] = {}
    for word in kept:
        seen.setdefault(word, None)
    return list(seen)[:max_terms]
