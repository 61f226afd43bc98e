"""Persistence behind the ports of `hubbub.core.ports`."""
