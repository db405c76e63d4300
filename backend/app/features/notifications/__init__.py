"""Notifications, built only through the public extension points, as a user's own feature
would be: two channel declarations, one route that publishes, and (in the SPA) a bell that
follows the user's channel over the page's one connection."""

from app.features import Feature
from app.features.notifications.channels import ANNOUNCEMENTS, NOTIFICATIONS
from app.features.notifications.routes import router

feature = Feature("notifications", channels=(NOTIFICATIONS, ANNOUNCEMENTS), routers=(router,))
