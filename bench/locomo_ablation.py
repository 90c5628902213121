"""Ablation of the search levers on LoCoMo: each lever of the default switched off (or changed) alone.

``bench/locomo_retrieval.py`` measures the product end to end; this script answers "what does each lever
give?" for the levers that live in how an event is indexed, which the product does not let a caller
switch off. It rebuilds the product's pipeline in memory from the same parts: the indexed texts of
``storage.indexing`` (head = date + sender + content, lexical window of neighbours), FTS5 with the
product's tokenizer (``porter unicode61 remove_diacritics 2``) and query terms (``storage.text``), the
product's local embedder, and ``storage.ranking.fuse`` with the same weights and the named-sender boost.
Neighbours are the turns of the same session (LoCoMo sessions are days apart, so this is what
``CONTEXT_MAX_GAP`` does in the store). Prints recall@5/10/20 and hit@10 per configuration; asserts
nothing.

Run::

    python bench/locomo_ablation.py ../shared/datasets/locomo              # all levers, every file
    python bench/locomo_ablation.py ../shared/datasets/locomo/41.json 42.json 43.json --only default
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass, replace
from datetime import UTC
from pathlib import Path

import anyio
import apsw
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from locomo_retrieval import Conversation, conversation_files, load_conversation  # noqa: E402

from mcp_memory.embeddings import make_embedder  # noqa: E402
from storage.indexing import CONTEXT_AFTER, CONTEXT_BEFORE, SENDER_BOOST, event_head, names_sender  # noqa: E402
from storage.ranking import VECTOR_WEIGHT, Candidate, fuse  # noqa: E402
from storage.text import query_terms  # noqa: E402

TOKENIZER = "porter unicode61 remove_diacritics 2"
POOL = 50


@dataclass(frozen=True)
class Config:
    """One configuration of the levers; ``default`` is what the product does."""

    date: bool = True
    sender: bool = True
    before: int = CONTEXT_BEFORE
    after: int = CONTEXT_AFTER
    vector_weight: float = VECTOR_WEIGHT
    sender_boost: float = SENDER_BOOST
    tokenizer: str = TOKENIZER
    lexical: bool = True
    vector: bool = True
    embed_previous: bool = False


DEFAULT = Config()
CONFIGS: dict[str, Config] = {
    "default": DEFAULT,
    "no date in the text": replace(DEFAULT, date=False),
    "no sender in the text": replace(DEFAULT, sender=False),
    "no neighbour window": replace(DEFAULT, before=0, after=0),
    "window 1 before, 0 after": replace(DEFAULT, before=1, after=0),
    "window 1/1": replace(DEFAULT, before=1, after=1),
    "window 3/3": replace(DEFAULT, before=3, after=3),
    "embedding also of the previous turn": replace(DEFAULT, embed_previous=True),
    "equal RRF weights (vector 1.0)": replace(DEFAULT, vector_weight=1.0),
    "vector weight 0.5": replace(DEFAULT, vector_weight=0.5),
    "no named-sender boost": replace(DEFAULT, sender_boost=0.0),
    "named-sender boost 0.5": replace(DEFAULT, sender_boost=0.5),
    "no stemming (unicode61)": replace(DEFAULT, tokenizer="unicode61 remove_diacritics 2"),
    "lexical only": replace(DEFAULT, vector=False),
    "vector only": replace(DEFAULT, lexical=False),
    "raw turns, plain RRF (reference)": Config(
        date=False, sender=False, before=0, after=0, vector_weight=1.0, sender_boost=0.0
    ),
}


class Embeddings:
    """The product's local embedder with a per-text cache (several configurations embed the same texts)."""

    def __init__(self) -> None:
        embedder = make_embedder("local")
        assert embedder is not None
        self._embedder = embedder
        self._cache: dict[str, np.ndarray] = {}

    async def __call__(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        for start in range(0, len(missing), 64):
            batch = missing[start : start + 64]
            for text, vector in zip(batch, await self._embedder.embed(batch), strict=True):
                self._cache[text] = np.asarray(vector, dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])

    async def aclose(self) -> None:
        await self._embedder.aclose()


def heads(conversation: Conversation, config: Config) -> list[str]:
    """The indexed head of every turn under ``config`` (``storage.indexing.event_head``)."""
    result = []
    for turn in conversation.turns:
        sender = turn.speaker if config.sender else None
        head = event_head(turn.text, sender=sender, occurred_at=turn.at.astimezone(UTC))
        result.append(head if config.date else head.split("] ", 1)[1])
    return result


def windows(conversation: Conversation, own: list[str], before: int, after: int) -> list[str]:
    """Each head followed by its neighbours' heads within the same session."""
    turns = conversation.turns
    docs = []
    for i, head in enumerate(own):
        near = [
            own[j]
            for j in range(i - before, i + after + 1)
            if j != i and 0 <= j < len(turns) and turns[j].at == turns[i].at
        ]
        docs.append("\n".join([head, *near]))
    return docs


def _candidates(ids: list[int], conversation: Conversation) -> list[Candidate]:
    return [Candidate(key=("event", f"{i:06d}"), at=conversation.turns[i].at, importance=0.5) for i in ids]


async def evaluate(conversations: list[Conversation], config: Config, embed: Embeddings) -> dict[str, float]:
    """recall@5/10/20 and hit@10 of ``config`` over every question."""
    recalls: dict[int, list[float]] = {5: [], 10: [], 20: []}
    for conversation in conversations:
        own = heads(conversation, config)
        lexical_docs = windows(conversation, own, config.before, config.after)
        vector_docs = windows(conversation, own, 1, 0) if config.embed_previous else own
        fts = apsw.Connection(":memory:")
        fts.execute(f"CREATE VIRTUAL TABLE f USING fts5(text, tokenize='{config.tokenizer}')")
        with fts:
            for i, doc in enumerate(lexical_docs):
                fts.execute("INSERT INTO f (rowid, text) VALUES (?, ?)", (i, doc))
        matrix = await embed(vector_docs) if config.vector else None
        queries = await embed([q.text for q in conversation.questions]) if config.vector else None
        for qi, question in enumerate(conversation.questions):
            lexical: list[int] = []
            terms = query_terms(question.text)
            if config.lexical and terms:
                match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
                lexical = [
                    r[0]
                    for r in fts.execute(
                        "SELECT rowid FROM f WHERE f MATCH ? ORDER BY bm25(f), rowid LIMIT ?", (match, POOL)
                    )
                ]
            vector: list[int] = []
            if matrix is not None and queries is not None:
                scores = matrix @ queries[qi]
                vector = [int(i) for i in np.lexsort((np.arange(len(scores)), -scores))[:POOL]]
            boosts = {
                ("event", f"{i:06d}"): 1.0 + config.sender_boost
                for i in set(lexical) | set(vector)
                if config.sender_boost and names_sender(question.text, conversation.turns[i].speaker)
            }
            fused = fuse(
                _candidates(lexical, conversation),
                _candidates(vector, conversation),
                limit=20,
                vector_weight=config.vector_weight,
                boosts=boosts,
            )
            ranked = [conversation.turns[int(f.key[1])].dia_id for f in fused]
            for k, values in recalls.items():
                values.append(len(question.evidence & set(ranked[:k])) / len(question.evidence))
    return {
        **{f"r@{k}": statistics.mean(v) for k, v in recalls.items()},
        "h@10": statistics.mean(1.0 if r > 0 else 0.0 for r in recalls[10]),
    }


async def main_async(paths: list[Path], only: list[str] | None) -> None:
    conversations = [load_conversation(f) for f in conversation_files(paths)]
    names = ", ".join(c.name for c in conversations)
    print(f"LoCoMo [{names}]: {sum(len(c.questions) for c in conversations)} questions")
    embed = Embeddings()
    try:
        baseline: dict[str, float] | None = None
        for label, config in CONFIGS.items():
            if only and label not in only:
                continue
            figures = await evaluate(conversations, config, embed)
            baseline = baseline or figures
            delta = figures["r@10"] - baseline["r@10"]
            cells = "  ".join(f"{name} {value:.3f}" for name, value in figures.items())
            print(
                f"{label:<38} {cells}  (r@10 {delta:+.3f} vs default)"
                if label != "default"
                else f"{label:<38} {cells}"
            )
    finally:
        await embed.aclose()


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", type=Path, nargs="+", help="LoCoMo JSON files and/or folders of them.")
    parser.add_argument("--only", nargs="+", choices=list(CONFIGS), help="Run only these configurations.")
    args = parser.parse_args()
    anyio.run(main_async, args.paths, args.only)


if __name__ == "__main__":
    main()
