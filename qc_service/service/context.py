"""What every use case needs: the settings and the database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from qc_service.settings import Settings


@dataclass
class Context:
    settings: Settings
    engine: Engine
    #: Called with a project id after each write that should lead to a refit.
    on_change: list[Callable[[str], None]] = field(default_factory=list)

    def changed(self, project_id: str) -> None:
        for callback in self.on_change:
            callback(project_id)
