"""The gateway: owns every conversation (channels, transcript, ownership) and serves the API."""
