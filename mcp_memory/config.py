"""Team configuration: one TOML file per deployment, validated into typed settings.

Sources, highest priority first: keyword arguments, environment variables (prefix ``MCP_MEMORY_``,
nested keys joined by ``__``, e.g. ``MCP_MEMORY_STORAGE__URL``), the TOML file, defaults. Secrets (a
PostgreSQL DSN with a password) belong in the environment, never in a committed file. A bad config
fails at start with a message naming the key (``load_settings`` raises ``ConfigError``).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from mcp_memory.auth import AgentPolicy, check_agent_name
from mcp_memory.crypto import CipherError, ContentCipher
from mcp_memory.sections import IdentitySettings, LimitSettings, PruningSettings, RetentionSettings, _Section

__all__ = [
    "AgentConfig",
    "ConfigError",
    "EmbedderSettings",
    "IdentitySettings",
    "LimitSettings",
    "PruningSettings",
    "RetentionSettings",
    "ServerSettings",
    "Settings",
    "StorageSettings",
    "find_config",
    "load_settings",
    "redacted_url",
]

ENV_PREFIX = "MCP_MEMORY_"
CONFIG_ENV = "MCP_MEMORY_CONFIG"
#: The config file ``mcp-memory init`` writes, found in the working directory when no config is named.
LOCAL_CONFIG = "mcp-memory.toml"


class ConfigError(Exception):
    """The configuration is invalid; the message names the offending key(s)."""


class AgentConfig(AgentPolicy):
    """An agent of the team: its policy plus how it authenticates over HTTP/SSE.

    Tokens are never written in the config: give either ``token_env`` (the name of an environment
    variable holding the token) or ``token_sha256`` (hex SHA-256 of the token).
    """

    token_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    token_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class StorageSettings(_Section):
    """Where memory lives. ``url`` defaults to ``sqlite:///{data_dir}/memory.db``."""

    url: str | None = None
    busy_timeout_seconds: float = Field(default=30.0, gt=0)
    pool_min_size: int = Field(default=1, ge=1)
    pool_max_size: int = Field(default=10, ge=1)


EmbedderProvider = Literal["local", "fastembed", "sentence-transformers", "openai", "none"]


class EmbedderSettings(_Section):
    """Which embedder turns text into vectors (``docs/embedder.md``).

    ``provider``: ``local`` (offline ONNX MiniLM, the default), ``fastembed`` or ``sentence-transformers``
    (a local model folder), ``openai`` (an OpenAI-compatible HTTP endpoint) or ``none`` (lexical only).
    Keys a provider does not use are ignored. The API key of ``openai`` is read from the environment
    variable named by ``api_key_env``, or from ``MCP_MEMORY_EMBEDDER__API_KEY``. ``deferred = true``:
    writes commit without waiting for their vector, which the server adds in the background from a
    durable queue (``mcp_memory.services.embedding``); the default embeds inside each write.
    """

    provider: EmbedderProvider = "local"
    model: str | None = Field(default=None, min_length=1, max_length=300)
    model_path: Path | None = None
    cache_dir: Path | None = None
    dimensions: int | None = Field(default=None, ge=1, le=16_000)
    batch_size: int = Field(default=32, ge=1, le=2048)
    threads: int = Field(default=1, ge=1, le=64)
    url: str | None = Field(default=None, pattern=r"^https?://")
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    api_key: SecretStr | None = None
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    max_retries: int = Field(default=4, ge=0, le=20)
    send_dimensions: bool = False
    query_prefix: str = Field(default="", max_length=200)
    document_prefix: str = Field(default="", max_length=200)
    deferred: bool = False

    @model_validator(mode="after")
    def _check_provider_keys(self) -> EmbedderSettings:
        if self.provider == "openai":
            missing = [k for k in ("url", "model", "dimensions") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"provider 'openai' needs embedder.{', embedder.'.join(missing)}")
        if self.provider == "sentence-transformers" and self.model is None and self.model_path is None:
            raise ValueError("provider 'sentence-transformers' needs embedder.model_path or embedder.model")
        return self

    def provider_options(self) -> dict[str, Any]:
        """Keyword arguments of the chosen provider's class (``make_embedder(provider, **options)``).

        Raises:
            ConfigError: ``api_key_env`` names an unset environment variable.
        """
        prefixes = {"query_prefix": self.query_prefix, "document_prefix": self.document_prefix}
        if self.provider == "local":
            return {"batch_size": self.batch_size, "threads": self.threads}
        if self.provider == "fastembed":
            options: dict[str, Any] = {"batch_size": self.batch_size, "threads": self.threads, **prefixes}
            if self.model is not None:
                options["model"] = self.model
            for key in ("model_path", "cache_dir", "dimensions"):
                if getattr(self, key) is not None:
                    options[key] = getattr(self, key)
            return options
        if self.provider == "sentence-transformers":
            return {
                "model": self.model,
                "model_path": self.model_path,
                "dimensions": self.dimensions,
                "batch_size": self.batch_size,
                "threads": self.threads,
                **prefixes,
            }
        if self.provider == "openai":
            return {
                "url": self.url,
                "model": self.model,
                "dimensions": self.dimensions,
                "api_key": self._api_key(),
                "batch_size": self.batch_size,
                "timeout_seconds": self.timeout_seconds,
                "max_retries": self.max_retries,
                "send_dimensions": self.send_dimensions,
                **prefixes,
            }
        return {}

    def _api_key(self) -> str | None:
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        if self.api_key_env is None:
            return None
        value = os.environ.get(self.api_key_env)
        if not value:
            raise ConfigError(f"embedder.api_key_env: environment variable {self.api_key_env} is not set")
        return value


class ServerSettings(_Section):
    """How the server is reached and who a stdio caller is."""

    transport: Literal["stdio", "streamable-http", "sse"] = "stdio"
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=1, le=65535)
    default_agent: str = Field(default="assistant", min_length=1, max_length=128)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0, le=600)


class Settings(BaseSettings):
    """The whole deployment: storage, embedder, server, limits and the team's agents.

    ``agents`` maps an agent name to its policy; an agent not listed gets ``default_policy``.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    tenant: str = Field(default="default", pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    data_dir: Path = Path("./data")
    storage: StorageSettings = Field(default_factory=StorageSettings)
    embedder: EmbedderSettings = Field(default_factory=EmbedderSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    identities: IdentitySettings = Field(default_factory=IdentitySettings)
    default_policy: AgentPolicy = Field(default_factory=AgentPolicy)
    agents: dict[str, AgentConfig] = Field(default_factory=dict)
    retention: dict[str, RetentionSettings] = Field(
        default_factory=dict, description="namespace pattern -> rule; the first matching pattern applies"
    )
    pruning: PruningSettings = Field(default_factory=PruningSettings)
    encryption_key: SecretStr | None = Field(
        default=None, description="base64 of 32 bytes; encrypts confidential content at rest (set via env)"
    )

    @field_validator("encryption_key")
    @classmethod
    def _check_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                ContentCipher(value.get_secret_value())
            except CipherError as exc:
                raise ValueError(
                    f"{exc} (make one with: python -c 'from mcp_memory.crypto import "
                    "ContentCipher; print(ContentCipher.generate_key())')"
                ) from None
        return value

    @model_validator(mode="after")
    def _check_agent_names(self) -> Settings:
        for key, name in [
            *(("agents", n) for n in self.agents),
            ("server.default_agent", self.server.default_agent),
        ]:
            try:
                check_agent_name(name)
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
        return self

    @model_validator(mode="after")
    def _check_pool(self) -> Settings:
        if self.storage.pool_min_size > self.storage.pool_max_size:
            raise ValueError("storage.pool_min_size must not exceed storage.pool_max_size")
        return self

    @model_validator(mode="after")
    def _check_retention(self) -> Settings:
        for pattern in self.retention:
            if not re.fullmatch(r"[a-z0-9*][a-z0-9._:*-]{0,127}", pattern):
                raise ValueError(
                    f"retention.{pattern!r}: the key must be a namespace or a pattern with * (e.g. shared-*)"
                )
        return self

    @property
    def storage_url(self) -> str:
        """The storage URL, defaulting to a SQLite file under ``data_dir``."""
        if self.storage.url:
            return self.storage.url
        return f"sqlite:///{(self.data_dir / 'memory.db').as_posix()}"

    def policy_for(self, agent: str) -> AgentPolicy:
        """The policy of ``agent`` (its own entry, else ``default_policy``)."""
        return self.agents.get(agent, self.default_policy)

    def token_digests(self) -> dict[str, str]:
        """Map the SHA-256 hex digest of each agent's bearer token to the agent's name.

        Raises:
            ConfigError: an agent's ``token_env`` names an unset variable, or two agents share a token.
        """
        digests: dict[str, str] = {}
        for name, agent in sorted(self.agents.items()):
            digest = agent.token_sha256
            if agent.token_env is not None:
                token = os.environ.get(agent.token_env)
                if not token:
                    raise ConfigError(
                        f"agents.{name}.token_env: environment variable {agent.token_env} is not set"
                    )
                digest = hashlib.sha256(token.encode()).hexdigest()
            if digest is None:
                continue
            if digest in digests:
                raise ConfigError(f"agents.{name}: same token as agents.{digests[digest]}")
            digests[digest] = name
        return digests

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # TOML only when a file is configured (``load_settings`` sets ``toml_file`` on a subclass).
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Load settings from a TOML file (or ``$MCP_MEMORY_CONFIG``), the environment and ``overrides``.

    A relative ``data_dir`` in a config file is resolved against the file's folder.

    Raises:
        ConfigError: the file is missing or unreadable, or a key is unknown or has a bad value.
    """
    path = Path(config_file) if config_file else _env_config_path()
    if path is not None and not path.is_file():
        raise ConfigError(f"config file {path} does not exist (create one with `mcp-memory init`)")

    class _FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    try:
        settings: Settings = _FileSettings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    if path is not None and not settings.data_dir.is_absolute():
        settings.data_dir = (path.parent / settings.data_dir).resolve()
    for key in ("model_path", "cache_dir"):
        folder = getattr(settings.embedder, key)
        if path is not None and folder is not None and not folder.is_absolute():
            setattr(settings.embedder, key, (path.parent / folder).resolve())
    return settings


def find_config() -> Path | None:
    """The config to use when none is named: ``$MCP_MEMORY_CONFIG``, else ``./mcp-memory.toml`` when it
    exists (what ``mcp-memory init`` wrote), else ``None`` (built-in defaults)."""
    named = _env_config_path()
    if named is not None:
        return named
    local = Path(LOCAL_CONFIG)
    return local.resolve() if local.is_file() else None


def redacted_url(url: str) -> str:
    """A storage URL safe to print: a SQLite URL as its file path, a password in a DSN replaced by ``***``."""
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///") or url
    return re.sub(r"^([a-z+]+://[^:/@]*):[^@]*@", r"\1:***@", url)


def _env_config_path() -> Path | None:
    value = os.environ.get(CONFIG_ENV)
    return Path(value) if value else None


def _describe(exc: ValidationError, path: Path | None) -> str:
    where = f" in {path}" if path else ""
    lines = [f"invalid configuration{where}:"]
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(root)"
        lines.append(f"  {key}: {error['msg']}")
    return "\n".join(lines)
