"""Errors a user can act on: the CLI prints them as one line (exit code 2)."""


class PipelineError(Exception):
    """A problem with input, configuration or a model, stated so a user can fix it."""


class IngestError(Exception):
    """A document cannot be ingested; the message is the one-line reason in documents.csv."""
