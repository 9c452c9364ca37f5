"""Messaging channels: adapters at the edge between a platform and the inbox (docs/channels.md)."""

# Sender ids of the messaging apps are namespaced (tg:<chat id>, wecom:<user>): the web channels
# (REST, its history/status/live endpoints) refuse them, so nobody reaches such a conversation from the web.
PLATFORM_PREFIXES = ("tg:", "wecom:")


def is_platform_sender(sender: str) -> bool:
    return sender.lower().startswith(PLATFORM_PREFIXES)
