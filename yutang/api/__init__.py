"""The REST API under /v1: FastAPI routers, problem+json errors, API-key authentication."""
