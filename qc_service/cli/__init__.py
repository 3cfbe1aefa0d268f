"""The ``qc-service`` command line. Each area's commands live in their own module.

Those modules are imported only when their command runs: together they pull in
SQLAlchemy, Alembic, scipy and pyarrow (1-3 s here), which ``qc-service --help``, a
typo or ``--version`` should not wait for. The listing in ``--help`` therefore comes
from :data:`COMMANDS`, not from the commands' docstrings.
"""

from __future__ import annotations

from importlib import import_module

import click

from qc_service import __version__

#: command name -> ("module:attribute", one line for ``qc-service --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("qc_service.cli.server:serve", "Run the HTTP API."),
    "settings": (
        "qc_service.cli.server:settings",
        "List every setting: environment variable, default and meaning.",
    ),
    "demo": (
        "qc_service.cli.demo:demo",
        "Build a populated demo project and print its URL and token.",
    ),
    "db": ("qc_service.cli.database:db", "Migrate, inspect and prune the database."),
    "project": ("qc_service.cli.projects:project", "Manage projects."),
    "token": ("qc_service.cli.tokens:token", "Manage API tokens."),
    "import": ("qc_service.cli.imports:import_file", "Import a platform's export into a project."),
    "export": ("qc_service.cli.exports:export", "Write a project's aggregated labels to a file."),
    "fit": ("qc_service.cli.jobs:fit", "Refit a project now, in this process."),
    "worker": (
        "qc_service.cli.jobs:worker",
        "Run a Celery worker for refits (needs QC_BROKER_URL).",
    ),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported from :data:`COMMANDS` when invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name][0].split(":")
        return getattr(import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="qc-service")
def main() -> None:
    """Quality control for crowdsourced labels.

    Configuration comes from environment variables; `qc-service settings` lists them.

    \b
    Quick start (SQLite in ./data, nothing else needed):
      qc-service demo            # a populated demo project, with its URL and token
      qc-service serve           # the API on http://127.0.0.1:8000
    """
