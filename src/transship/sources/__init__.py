"""Connectors: each turns one kind of input into canonical Arrow batches (schema.BatchSource)."""
