"""The re-identification vault: placeholder ↔ value, per conversation or request, encrypted.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under `CIVIQUE_VAULT_KEYS`: the
first key encrypts, every key decrypts, so a new key is put first and `civique vault rotate`
re-encrypts the entries under it. Each value also carries a keyed hash (HMAC-SHA256 of its
folded form) so that the same person gets the same placeholder within a scope, and so that the
data-protection officer can find a data subject's entries without decrypting the whole vault.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import (
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from civique.db.base import Base, Timestamped
from civique.settings import Settings


class VaultKeyError(Exception):
    """The configured keys cannot be used or cannot read the existing entries."""


class VaultEntry(Timestamped, Base):
    """One placeholder of one scope and the encrypted value it stands for."""

    __tablename__ = "vault_entries"
    __table_args__ = (
        UniqueConstraint("org_id", "scope", "placeholder", name="uq_vault_entries_placeholder"),
        UniqueConstraint("org_id", "scope", "value_mac", name="uq_vault_entries_value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(String(80), index=True)  # conversation:12, request:…
    placeholder: Mapped[str] = mapped_column(String(48))  # [PERSONNE_1]
    kind: Mapped[str] = mapped_column(String(32))
    value_mac: Mapped[str] = mapped_column(String(64), index=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)  # Fernet token


@dataclass(frozen=True)
class Mapping:
    """A scope's placeholders and their clear values."""

    values: dict[str, str]  # placeholder → value
    by_mac: dict[str, str]  # value hash → placeholder
    counts: dict[str, int]  # kind → highest number used


def _derived_key(secret: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(b"civique-vault:" + secret.encode()).digest())


def fold_value(value: str) -> str:
    """The form two mentions of one value share: case, accents and spacing ignored."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


class Vault:
    """Encrypts, finds and purges placeholder mappings."""

    def __init__(self, settings: Settings) -> None:
        raw = settings.vault_keys or [_derived_key(settings.secret_key).decode()]
        try:
            self._fernets = [Fernet(key.encode()) for key in raw]
        except (ValueError, TypeError) as exc:
            raise VaultKeyError(
                "CIVIQUE_VAULT_KEYS holds a key that is not a Fernet key (32 bytes, url-safe "
                "base64; make one with `civique vault new-key`)"
            ) from exc
        self._crypto = MultiFernet(self._fernets)
        primary = base64.urlsafe_b64decode(raw[0].encode())
        self._mac_key = hashlib.sha256(b"civique-vault-mac:" + primary).digest()

    def mac(self, value: str) -> str:
        """The keyed hash of a value's folded form."""
        return hmac.new(self._mac_key, fold_value(value).encode(), hashlib.sha256).hexdigest()

    def check(self, session: Session) -> None:
        """Refuse to start when the keys cannot read the newest entry (nothing is changed)."""
        newest = session.scalars(select(VaultEntry).order_by(VaultEntry.id.desc()).limit(1)).first()
        if newest is None:
            return
        try:
            self._crypto.decrypt(newest.value)
        except InvalidToken:
            raise VaultKeyError(
                "CIVIQUE_VAULT_KEYS cannot decrypt the vault's entries: put back the key they "
                "were written with (a new key goes first, the old ones after it). Nothing was "
                "changed."
            ) from None

    def mapping(self, session: Session, org_id: int, scope: str) -> Mapping:
        """Every placeholder of a scope, decrypted."""
        rows = session.scalars(
            select(VaultEntry).where(VaultEntry.org_id == org_id, VaultEntry.scope == scope)
        ).all()
        values: dict[str, str] = {}
        by_mac: dict[str, str] = {}
        counts: dict[str, int] = {}
        for row in rows:
            values[row.placeholder] = self._crypto.decrypt(row.value).decode()
            by_mac[row.value_mac] = row.placeholder
            number = int(row.placeholder.rsplit("_", 1)[1].rstrip("]"))
            counts[row.kind] = max(counts.get(row.kind, 0), number)
        return Mapping(values, by_mac, counts)

    def add(
        self, session: Session, org_id: int, scope: str, placeholder: str, kind: str, value: str
    ) -> None:
        """Store a new placeholder of a scope (flushed, committed by the caller)."""
        session.add(
            VaultEntry(
                org_id=org_id,
                scope=scope,
                placeholder=placeholder,
                kind=kind,
                value_mac=self.mac(value),
                value=self._crypto.encrypt(value.encode()),
            )
        )
        session.flush()

    def scopes_holding(self, session: Session, org_id: int, value: str) -> list[tuple[str, str]]:
        """(scope, placeholder) of every entry of the organisation for this value."""
        rows = session.execute(
            select(VaultEntry.scope, VaultEntry.placeholder).where(
                VaultEntry.org_id == org_id, VaultEntry.value_mac == self.mac(value)
            )
        ).all()
        return [(scope, placeholder) for scope, placeholder in rows]

    def forget_scope(self, session: Session, org_id: int, scope: str) -> int:
        """Delete a scope's entries (its conversation was deleted); returns how many."""
        return self.forget_scopes(session, org_id, [scope])

    def forget_scopes(self, session: Session, org_id: int, scopes: list[str]) -> int:
        """Delete the entries of several scopes of an organisation; returns how many."""
        if not scopes:
            return 0
        result = session.execute(
            delete(VaultEntry).where(VaultEntry.org_id == org_id, VaultEntry.scope.in_(scopes))
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def purge(self, session: Session, before: datetime, org_id: int | None = None) -> int:
        """Delete entries created before `before` (retention), of one organisation or of all;
        returns how many."""
        stmt = delete(VaultEntry).where(VaultEntry.created_at < before)
        if org_id is not None:
            stmt = stmt.where(VaultEntry.org_id == org_id)
        result = session.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)

    def rotate(self, session: Session, batch: int = 500) -> int:
        """Re-encrypt every entry under the first key and re-hash it; returns how many."""
        done = 0
        last_id = 0
        while True:
            rows = session.scalars(
                select(VaultEntry)
                .where(VaultEntry.id > last_id)
                .order_by(VaultEntry.id)
                .limit(batch)
            ).all()
            if not rows:
                return done
            for row in rows:
                value = self._crypto.decrypt(row.value)
                row.value = self._fernets[0].encrypt(value)
                row.value_mac = self.mac(value.decode())
                last_id = row.id
            session.commit()
            done += len(rows)


def new_key() -> str:
    """A fresh Fernet key for `CIVIQUE_VAULT_KEYS`."""
    return Fernet.generate_key().decode()
