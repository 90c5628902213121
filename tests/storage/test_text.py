"""storage.text.query_terms: the words both backends search for."""

from __future__ import annotations

from storage.text import STOPWORDS, query_terms


def test_terms_are_lowercased_words_without_punctuation() -> None:
    assert query_terms("Refund, for ORDER #17!") == ["refund", "order", "17"]


def test_stopwords_are_dropped() -> None:
    assert query_terms("what is the status of the invoice") == ["status", "invoice"]


def test_a_query_of_only_stopwords_keeps_them() -> None:
    assert query_terms("Who are you?") == ["who", "are", "you"]


def test_repeated_words_appear_once_in_order_of_first_appearance() -> None:
    assert query_terms("refund Refund invoice refund") == ["refund", "invoice"]


def test_unicode_words_are_kept() -> None:
    assert query_terms("Café in Zürich, 東京") == ["café", "zürich", "東京"]


def test_underscored_and_numeric_tokens_are_single_words() -> None:
    assert query_terms("order_id 2024-03") == ["order_id", "2024", "03"]


def test_long_queries_are_cut_to_max_terms() -> None:
    words = [f"w{i}" for i in range(50)]

    assert query_terms(" ".join(words)) == words[:32]
    assert query_terms(" ".join(words), max_terms=3) == ["w0", "w1", "w2"]


def test_text_without_words_gives_no_terms() -> None:
    assert query_terms("") == []
    assert query_terms("?! ... --") == []


def test_stopwords_are_lowercase_single_words() -> None:
    assert "the" in STOPWORDS
    assert all(w == w.lower() and w.isalpha() for w in STOPWORDS)
    assert "invoice" not in STOPWORDS
