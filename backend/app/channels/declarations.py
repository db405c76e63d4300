"""A feature's channels, declared next to its routes, and the registry of them all.

A declaration says everything the framework needs, and nothing of how it is done::

    NOTIFICATIONS = Channel(
        "user:{subject}",
        payload=Notification,           # what each event carries, a pydantic model
        subscribe=owner("subject"),     # who may follow it: here, that user alone
        publish=nobody,                 # who may publish over a connection (server code may)
        history=HistoryLimits(max_events=100, max_age=7 * 86_400),
    )

Rules are plain functions of the principal (``app.security.principal``, None when anonymous)
and the name's parameters; ``anyone``, ``signed_in``, ``has_role``, ``owner`` and ``nobody``
cover the usual ones. With ``presence=True``, each subscriber shows as a *member* (a chat's
client number, checked by ``member``; by default the principal's subject), announced as
joined with its first connection and as left with its last.
"""

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel

from app.channels.history import HistoryLimits
from app.security.principal import Principal, Role

Params = Mapping[str, str]
Rule = Callable[[Principal | None, Params], bool]

# A parameter's value, unless the declaration says otherwise: a name, a subject, an id.
DEFAULT_PARAMETER = r"[A-Za-z0-9_.@-]{1,64}"
MAX_NAME_LENGTH = 160
LIMITS_CACHE_SIZE = 4096
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def described(text: str) -> Callable[[Rule], Rule]:
    """Says in words what a rule allows (the AsyncAPI document and docs show it)."""

    def mark(rule: Rule) -> Rule:
        setattr(rule, "describes", text)  # noqa: B010 - a function's attribute
        return rule

    return mark


def description_of(rule: Rule) -> str:
    return str(getattr(rule, "describes", getattr(rule, "__name__", "a rule of its own")))


@described("anyone, signed in or not")
def anyone(principal: Principal | None, params: Params) -> bool:
    return True


@described("anyone signed in")
def signed_in(principal: Principal | None, params: Params) -> bool:
    return principal is not None


@described("nobody over a connection (the server publishes)")
def nobody(principal: Principal | None, params: Params) -> bool:
    return False


def has_role(role: Role) -> Rule:
    @described(f"a credential with the {role} role")
    def rule(principal: Principal | None, params: Params) -> bool:
        return principal is not None and principal.has(role)

    return rule


def owner(parameter: str = "subject") -> Rule:
    """The principal whose subject the name carries: ``user:{subject}`` for its user alone."""

    @described(f"only the user whose subject is {{{parameter}}}")
    def rule(principal: Principal | None, params: Params) -> bool:
        return principal is not None and principal.subject == params.get(parameter)

    return rule


@dataclass(frozen=True)
class PublishContext:
    """Who publishes over a connection, and as which member of the channel."""

    principal: Principal | None
    member: str | None
    params: Params


@dataclass(frozen=True, eq=False)
class Channel:
    pattern: str
    payload: type[BaseModel]
    subscribe: Rule = anyone
    publish: Rule = nobody
    # None: the app's defaults (APP_ROOM_HISTORY_*).
    history: HistoryLimits | None = None
    presence: bool = False
    # How a subscriber may show in presence (a chat's number, say): a check of what it asks
    # to show as. None: as its principal's subject (an anonymous one is not listed).
    member: Callable[[str], bool] | None = None
    # A regular expression per parameter of the pattern (DEFAULT_PARAMETER otherwise).
    parameters: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    # What a connection's publish becomes before it is placed: the payload, as checked, or
    # another model from it (who sent it, say). None: the payload as it came.
    prepare: Callable[[BaseModel, PublishContext], BaseModel] | None = None

    def __post_init__(self) -> None:
        names = _PLACEHOLDER.findall(self.pattern)
        regex = ""
        at = 0
        for match in _PLACEHOLDER.finditer(self.pattern):
            regex += re.escape(self.pattern[at : match.start()])
            name = match.group(1)
            regex += f"(?P<{name}>{self.parameters.get(name, DEFAULT_PARAMETER)})"
            at = match.end()
        regex += re.escape(self.pattern[at:])
        object.__setattr__(self, "_names", tuple(names))
        object.__setattr__(self, "_regex", re.compile(f"^{regex}$"))

    @property
    def parameter_names(self) -> tuple[str, ...]:
        names: tuple[str, ...] = object.__getattribute__(self, "_names")
        return names

    def match(self, name: str) -> dict[str, str] | None:
        regex: re.Pattern[str] = object.__getattribute__(self, "_regex")
        found = regex.match(name)
        return None if found is None else found.groupdict()

    def name(self, **params: str) -> str:
        """The channel's name for these parameters; ValueError when one does not fit."""
        name = self.pattern.format(**params)
        if self.match(name) is None:
            raise ValueError(f"not a name of {self.pattern}: {name[:100]}")
        return name


@dataclass(frozen=True)
class Resolved:
    """A channel's name, matched to its declaration."""

    name: str
    channel: Channel
    params: Params


class ChannelRegistry:
    """Every channel the app's features declared; a name belongs to at most one."""

    def __init__(self, default_history: HistoryLimits) -> None:
        self.default_history = default_history
        self._channels: list[Channel] = []
        # name -> its limits, for the brokers, which ask on every event (bounded: names are
        # many, and each is a client's choice).
        self._limits: dict[str, HistoryLimits] = {}

    def add(self, channel: Channel) -> None:
        if any(known.pattern == channel.pattern for known in self._channels):
            raise ValueError(f"channel {channel.pattern} is declared twice")
        self._channels.append(channel)
        self._limits.clear()

    def __iter__(self) -> Iterator[Channel]:
        return iter(self._channels)

    def resolve(self, name: str) -> Resolved | None:
        if len(name) > MAX_NAME_LENGTH:
            return None
        for channel in self._channels:
            params = channel.match(name)
            if params is not None:
                return Resolved(name, channel, params)
        return None

    def limits_for(self, name: str) -> HistoryLimits:
        limits = self._limits.get(name)
        if limits is None:
            resolved = self.resolve(name)
            history = None if resolved is None else resolved.channel.history
            limits = history or self.default_history
            if len(self._limits) >= LIMITS_CACHE_SIZE:
                self._limits.clear()
            self._limits[name] = limits
        return limits
