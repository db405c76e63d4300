"""The guide's chat, as a feature: one channel per room (``chat:{room}``), followed by the
guide's ``WS /ws/{client_id}`` and by the Chat page over the multiplexed endpoint."""

from app.features import Feature
from app.features.chat.channel import CHAT
from app.features.chat.route import router

feature = Feature("chat", channels=(CHAT,), routers=(router,))
