"""Ingestion: one raw file in, one :class:`~pipeline.records.DocumentResult` out."""

from pipeline.extract.ingest import ingest_file

__all__ = ["ingest_file"]
