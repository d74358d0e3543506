"""The daily retention purge as a periodic job (idempotent; one run at a time across workers)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from huey import Huey, crontab
from huey.exceptions import TaskLockedException
from sqlalchemy.orm import Session, sessionmaker

from civique.documents.storage import FileStore
from civique.governance.retention import purge_all
from civique.governance.vault import Vault
from civique.settings import Settings

log = logging.getLogger(__name__)


def register(
    queue: Huey, sessions: sessionmaker[Session], vault: Vault, store: FileStore, settings: Settings
) -> Callable[[], int]:
    """Register the daily purge on `queue`; returns the function that runs it now."""

    def run() -> int:
        """Purge every organisation; the number of organisations looked at."""
        try:
            # Every worker's scheduler enqueues periodic tasks: the lock keeps runs apart.
            with queue.lock_task("governance.retention"), sessions() as session:
                return len(purge_all(session, vault, store))
        except TaskLockedException:
            log.info("retention purge already running elsewhere")
            return 0

    schedule = crontab(minute="0", hour=str(settings.retention_purge_hour))
    queue.periodic_task(schedule, name="governance.retention_purge")(run)
    return run
