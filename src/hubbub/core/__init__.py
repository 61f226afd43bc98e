"""The domain. Plain Python + asyncio; talks to storage and the bus only
through the typed ports in `ports/`, one small Protocol per area (a test keeps
web frameworks, DB drivers and bus clients out of this package)."""
