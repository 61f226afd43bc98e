"""Blob stores: where uploaded bytes live (`core/blobs.py` holds the rules)."""
