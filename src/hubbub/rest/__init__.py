"""REST API (`/v1/...`), FastAPI style, published as OpenAPI."""
