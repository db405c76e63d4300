"""How uvicorn runs the app: transport-level defences, and a graceful shutdown."""
