"""Fan-out between connections and nodes (`hubbub.core.ports.Bus`)."""
