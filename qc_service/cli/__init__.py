"""The ``qc-service`` command line. Each area's commands live in their own module."""

from __future__ import annotations

import click

from qc_service import __version__
from qc_service.cli import database, demo, exports, imports, jobs, projects, server, tokens


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="qc-service")
def main() -> None:
    """Quality control for crowdsourced labels.

    Configuration comes from environment variables; `qc-service settings` lists them.

    \b
    Quick start (SQLite in ./data, nothing else needed):
      qc-service demo            # a populated demo project, with its URL and token
      qc-service serve           # the API on http://127.0.0.1:8000
    """


main.add_command(server.serve)
main.add_command(server.settings)
main.add_command(database.db)
main.add_command(jobs.worker)
main.add_command(jobs.fit)
main.add_command(tokens.token)
main.add_command(projects.project)
main.add_command(imports.import_file)
main.add_command(exports.export)
main.add_command(demo.demo)
