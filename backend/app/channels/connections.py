"""One connection's subscriptions, as an endpoint holds them (``hub.connection(conversation)``)."""

from typing import TYPE_CHECKING

from app.channels.events import Position
from app.channels.subscribers import ConnectionEntry, Renderer, Subscription
from app.conversation.loop import Conversation

if TYPE_CHECKING:
    from app.channels.hub import ChannelHub


class HubConnection:
    """One connection's subscriptions, at most one per channel."""

    def __init__(
        self, hub: "ChannelHub", conversation: Conversation, entry: ConnectionEntry
    ) -> None:
        self.hub = hub
        self.conversation = conversation
        self._entry = entry

    @property
    def subscriptions(self) -> dict[str, Subscription]:
        return self._entry.subscriptions

    async def subscribe(
        self,
        channel: str,
        renderer: Renderer,
        *,
        since: Position | None = None,
        member: str | None = None,
    ) -> Subscription:
        return await self.hub.subscribe(
            self.conversation, channel, renderer, since=since, member=member
        )

    async def unsubscribe(self, channel: str) -> bool:
        subscription = self._entry.subscriptions.get(channel)
        if subscription is None:
            return False
        await self.hub.unsubscribe(subscription)
        return True

    async def wait_for_room(self) -> None:
        """Before taking another message from this client: a client that sends faster than it
        reads the answers is slowed down (TCP pushes back on its sending), rather than dropped
        for its own replies. Only what its channels send can make it too slow."""
        try:
            await self.conversation.outlet.wait_for_room(give_up_after=5.0)
        except TimeoutError:
            for subscription in [*self._entry.subscriptions.values()]:
                self.hub.drop_slow(subscription)
                return
