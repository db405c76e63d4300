"""FastAPI's WebSockets guide made real: the backend of the real-time app."""
