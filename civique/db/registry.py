"""Imports every feature's models so `Base.metadata` knows all tables (Alembic, tests)."""

from civique.auth import models as auth_models
from civique.chat import models as chat_models
from civique.db.base import Base
from civique.documents import models as document_models
from civique.governance import models as governance_models
from civique.governance import policy_models
from civique.governance import vault as vault_models
from civique.lab import feedback_models as lab_feedback_models
from civique.lab import models as lab_models
from civique.lab import rollup_models as lab_rollup_models
from civique.llm import models as llm_models
from civique.orgs import models as org_models
from civique.tools import models as tool_models
from civique.tools.letters import library_models
from civique.tools.plain_language import jargon_models
from civique.tools.translation import glossary_models

__all__ = [
    "Base",
    "auth_models",
    "chat_models",
    "document_models",
    "glossary_models",
    "governance_models",
    "jargon_models",
    "lab_feedback_models",
    "lab_models",
    "lab_rollup_models",
    "library_models",
    "llm_models",
    "org_models",
    "policy_models",
    "tool_models",
    "vault_models",
]
