"""The ``openai`` provider: an OpenAI-compatible ``POST {url}/embeddings`` endpoint (OpenAI, Ollama, vLLM).

Request ``{"model": ..., "input": [texts...]}`` (plus ``"dimensions"`` when ``send_dimensions``), response
``{"data": [{"index": i, "embedding": [floats]}, ...]}`` (OpenAI's embeddings API; Ollama serves it at
``http://localhost:11434/v1``, vLLM at ``http://host:8000/v1``). Texts go in batches of ``batch_size``;
each request has a ``timeout_seconds`` budget; 429, 408 and 5xx answers and connection failures are
retried up to ``max_retries`` times with exponential backoff and full jitter (0.5 s doubling up to 8 s,
or the server's ``Retry-After`` when it says, capped at 30 s; the scheme of openai-python's client).
Everything else (401, 400, a malformed body, vectors of the wrong size) fails at once with a message
that says what to fix. The API key comes from the environment (``embedder.api_key_env``, read by
``config.py``), never from a committed file.

Privacy: this provider sends every stored text and every query to the endpoint. See docs/embedder.md.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
import httpx

from mcp_memory.embeddings.base import EmbedderUnavailableError, normalise_rows

__all__ = ["OpenAIEmbedder"]

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
"""Answers worth retrying (openai-python retries 408, 409, 429 and >= 500)."""

INITIAL_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 8.0
MAX_RETRY_AFTER_SECONDS = 30.0


class OpenAIEmbedder:
    """Embeds through an OpenAI-compatible HTTP endpoint with batching, timeouts and retries.

    ``name`` is ``openai:<model>`` (record of which model made the vectors; the URL is not part of it, so
    the same model behind another host is the same identity). ``dimensions`` must be configured: every
    answer is checked against it.
    """

    def __init__(
        self,
        *,
        url: str,
        model: str,
        dimensions: int,
        api_key: str | None = None,
        batch_size: int = 64,
        timeout_seconds: float = 30.0,
        max_retries: int = 4,
        send_dimensions: bool = False,
        query_prefix: str = "",
        document_prefix: str = "",
    ) -> None:
        """Check the options; open nothing until the first call.

        Args:
            url: base URL ending before ``/embeddings``, e.g. ``https://api.openai.com/v1``.
            model: model name the endpoint knows, e.g. ``text-embedding-3-small`` or ``nomic-embed-text``.
            dimensions: size of every vector (checked on every answer).
            api_key: bearer token, or ``None`` for endpoints without auth (Ollama, a local vLLM).
            batch_size: texts per request (>= 1; OpenAI accepts up to 2048).
            timeout_seconds: budget for one request (connect + send + read), > 0.
            max_retries: retries after the first attempt for 429/408/409/5xx and network errors (>= 0).
            send_dimensions: also send ``"dimensions"`` (OpenAI text-embedding-3 models shorten to it).
            query_prefix: prepended to every query (e.g. ``"search_query: "`` for nomic-embed-text).
            document_prefix: prepended to every stored text (e.g. ``"search_document: "``).

        Raises:
            ValueError: a bad option (the message names it).
        """
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"embedder.url must start with http:// or https://, got {url!r}")
        if not model:
            raise ValueError("embedder.model is required for the openai provider")
        if dimensions < 1 or batch_size < 1 or max_retries < 0 or timeout_seconds <= 0:
            raise ValueError("dimensions and batch_size must be >= 1, max_retries >= 0, timeout_seconds > 0")
        self.url = url.rstrip("/") + "/embeddings"
        self.model = model
        self._dimensions = dimensions
        self._api_key = api_key
        self.batch_size = batch_size
        self.timeout_seconds = timeout_seconds
        self.max_retries = max_retries
        self.send_dimensions = send_dimensions
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self._client: httpx.AsyncClient | None = None
        self._closed = False

    @property
    def name(self) -> str:
        """``openai:<model>``."""
        return f"openai:{self.model}"

    @property
    def dimensions(self) -> int:
        """Length of every vector."""
        return self._dimensions

    def start_warmup(self) -> None:
        """Nothing to load: the connection opens on the first request."""

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed documents (with ``document_prefix``), ``batch_size`` texts per request, in order.

        Returns:
            ``float32[len(texts), dimensions]``, unit-length rows (re-normalised), input order.

        Raises:
            EmbedderUnavailableError: the endpoint failed after the retries, timed out, refused the key or
                the model, or answered with the wrong number or size of vectors.
        """
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts; use embed_query() for one string")
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = [self.document_prefix + t for t in texts[start : start + self.batch_size]]
            vectors.extend(await self._request(batch))
        return vectors

    async def embed_query(self, text: str) -> list[float]:
        """Embed one query (with ``query_prefix``): ``float32[dimensions]``, unit length.

        Raises:
            EmbedderUnavailableError: as for ``embed``.
        """
        return (await self._request([self.query_prefix + text]))[0]

    async def aclose(self) -> None:
        """Close the connection pool. Later calls raise ``EmbedderUnavailableError``. Idempotent."""
        self._closed = True
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- one request, with retries -----------------------------------------------------------------

    def _http(self) -> httpx.AsyncClient:
        if self._closed:
            raise EmbedderUnavailableError("the embedder is closed")
        if self._client is None:
            headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
            self._client = httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(self.timeout_seconds))
        return self._client

    async def _request(self, texts: list[str]) -> list[list[float]]:
        body: dict[str, Any] = {"model": self.model, "input": texts, "encoding_format": "float"}
        if self.send_dimensions:
            body["dimensions"] = self._dimensions
        attempt = 0
        while True:
            problem: str
            wait: float | None = None
            try:
                with anyio.fail_after(self.timeout_seconds):
                    response = await self._http().post(self.url, json=body)
            except (TimeoutError, httpx.TimeoutException):
                problem = (
                    f"no answer from {self.url} within {self.timeout_seconds:g} s (embedder.timeout_seconds)"
                )
            except httpx.TransportError as exc:
                problem = f"cannot reach {self.url}: {type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    return self._parse(response, len(texts))
                problem = f"{self.url} answered HTTP {response.status_code}: {_error_text(response)}"
                if response.status_code not in RETRY_STATUSES:
                    raise EmbedderUnavailableError(problem + _hint(response.status_code))
                wait = _retry_after(response)
            if attempt >= self.max_retries:
                raise EmbedderUnavailableError(
                    f"{problem} (gave up after {attempt + 1} attempts; embedder.max_retries = {self.max_retries})"
                )
            backoff = min(MAX_BACKOFF_SECONDS, INITIAL_BACKOFF_SECONDS * 2**attempt)
            await anyio.sleep(wait if wait is not None else random.uniform(0, backoff))
            attempt += 1

    def _parse(self, response: httpx.Response, expected: int) -> list[list[float]]:
        try:
            data = response.json()["data"]
            rows = sorted(data, key=lambda item: int(item.get("index", 0)))
            vectors = [item["embedding"] for item in rows]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EmbedderUnavailableError(
                f"{self.url} did not answer in the OpenAI embeddings format ({type(exc).__name__}: {exc})"
            ) from exc
        if len(vectors) != expected:
            raise EmbedderUnavailableError(f"{self.url} returned {len(vectors)} vectors for {expected} texts")
        return normalise_rows(vectors, dimensions=self._dimensions, source=f"{self.name} at {self.url}")


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asks us to wait (``retry-after-ms``, ``Retry-After`` seconds or date), capped."""
    headers = response.headers
    try:
        if "retry-after-ms" in headers:
            return min(MAX_RETRY_AFTER_SECONDS, max(0.0, float(headers["retry-after-ms"]) / 1000))
        if "retry-after" in headers:
            value = headers["retry-after"]
            try:
                seconds = float(value)
            except ValueError:
                seconds = (parsedate_to_datetime(value) - dt.datetime.now(dt.UTC)).total_seconds()
            return min(MAX_RETRY_AFTER_SECONDS, max(0.0, seconds))
    except (TypeError, ValueError):
        return None
    return None


def _error_text(response: httpx.Response) -> str:
    """The endpoint's error message (OpenAI: ``{"error": {"message": ...}}``), cut to 300 characters."""
    try:
        error = response.json().get("error")
        text = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        text = None
    return str(text or response.text or response.reason_phrase)[:300]


def _hint(status: int) -> str:
    if status in (401, 403):
        return ": check the API key (the variable named by embedder.api_key_env)"
    if status == 404:
        return ": check embedder.url (it ends before /embeddings, e.g. http://localhost:11434/v1) and embedder.model"
    return ""
