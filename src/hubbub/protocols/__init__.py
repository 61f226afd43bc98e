"""Wire adapters: one package per spec, each a thin layer over `hubbub.core`.

They decode and validate frames, call a core service and encode the replies;
business rules and SQL stay out of here so every protocol behaves the same.
"""
