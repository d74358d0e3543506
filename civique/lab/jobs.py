"""The Lab's rollups kept up to date by a periodic job (one run at a time across workers)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from huey import Huey, crontab
from huey.exceptions import TaskLockedException
from sqlalchemy.orm import Session, sessionmaker

from civique.lab import rollups
from civique.settings import Settings

log = logging.getLogger(__name__)


def register(queue: Huey, sessions: sessionmaker[Session], settings: Settings) -> Callable[[], int]:
    """Register the rollup refresh on `queue`; returns the function that runs it now."""

    def run() -> int:
        """Roll up the closed weeks missing; how many weeks were rolled up."""
        try:
            # Every worker's scheduler enqueues periodic tasks: the lock keeps runs apart.
            with queue.lock_task("lab.rollups"), sessions() as session:
                done = rollups.refresh(session)
                session.commit()
                return done
        except TaskLockedException:
            log.info("lab rollups already running elsewhere")
            return 0

    minutes = settings.lab_rollup_minutes
    schedule = crontab(minute=f"*/{minutes}" if minutes < 60 else "0",
                       hour="*" if minutes < 60 else f"*/{max(1, minutes // 60)}")
    queue.periodic_task(schedule, name="lab.rollups_refresh")(run)
    return run
