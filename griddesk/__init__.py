"""Shared foundation of GridDesk's app env: settings, database, process supervisor."""
