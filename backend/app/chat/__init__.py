"""Multi-client chat, the guide's "Handling disconnections and multiple clients", at scale."""
