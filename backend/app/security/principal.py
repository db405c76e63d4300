"""Who is asking, and what they may do: a subject and its roles.

Every credential becomes a ``Principal`` (``app.security.credentials``), for HTTP and WebSocket
alike; a route says which role it needs, never which address may call it. This module is a
leaf: it imports nothing of the app, so that every layer can speak of principals.
"""

from dataclasses import dataclass
from typing import Literal, cast, get_args

# user: a person signed in (any credential, in the guide's way; or a token with this role).
# operator: may read /metrics and the live server page.
# publisher: a service that may publish to channels over HTTP.
Role = Literal["user", "operator", "publisher"]
ROLES: frozenset[str] = frozenset(get_args(Role))


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    roles: frozenset[Role]
    # Let in by its address alone (APP_OPERATOR_ON_LOOPBACK), having sent no credential.
    by_address: bool = False

    def has(self, role: Role) -> bool:
        return role in self.roles

    def with_role(self, role: Role) -> "Principal":
        return Principal(self.subject, self.roles | {role}, self.by_address)


def known_roles(names: object) -> frozenset[Role]:
    """The roles a token claims, without the names this server does not know."""
    if not isinstance(names, list | tuple):
        return frozenset()
    return frozenset(cast(Role, name) for name in names if isinstance(name, str) and name in ROLES)


def user(subject: str) -> Principal:
    return Principal(subject, frozenset({"user"}))


# The operator credential (APP_METRICS_TOKEN).
OPERATOR = Principal("operator", frozenset({"operator"}))
# A client on loopback that sent no credential, where APP_OPERATOR_ON_LOOPBACK lets it in as an
# operator: a route needing another role tells it that credentials are missing, not that they
# lack the role (it sent none).
LOOPBACK_OPERATOR = Principal("operator", frozenset({"operator"}), by_address=True)
