"""Swedish programme documents to research-grade proposal data.

Stages (each one module, one job; data crosses them as the records in
:mod:`pipeline.records`):

    extract/ingest   raw file -> Document + Blocks   (layout repaired)
    segment          Blocks -> Sentences             (Stanza Swedish tokenizer)
    proposals        Blocks + Sentences -> Proposals
    classify/        Proposals -> theme and level labels
"""

__version__ = "0.1.0"
