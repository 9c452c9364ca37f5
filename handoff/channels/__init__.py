"""Messaging channels: adapters at the edge between a platform and the inbox (docs/channels.md)."""
