"""Custom actions of the GridDesk assistant, served by the rasa-sdk action server (app env).

Actions are thin: read the tracker, call one service, utter a named ``utter_*`` response.

- ``faq.py``: answers from the knowledge base · ``human.py``: hand-off to a human
- ``ticket_form.py``: the ticket form (validation, summary, changes, discarding the draft)
- ``ticket_lookup.py``: the lookup form (ticket number + last 4 digits of the contact phone)
- ``tickets.py``: opening the confirmed ticket, checking a ticket's state
- helpers: ``ticket_extract.py`` (values in customers' text), ``form_support.py`` (form turns,
  failure counts), ``ticket_client.py`` (the ticket service in short sessions), ``texts.py``
  (durations, local times, labels for the responses)
"""
