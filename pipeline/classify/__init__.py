"""Theme and governance-level classification of proposals (see codebook.yaml)."""
