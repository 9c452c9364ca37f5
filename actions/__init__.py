"""Custom actions of the GridDesk assistant, served by the rasa-sdk action server (app env).

Actions are thin: read the tracker, call one service, utter a named ``utter_*`` response.
"""
