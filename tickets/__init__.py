"""Tickets (工单): opened in chat or by agents, moved through the service flow, looked up safely.

The service (``tickets.service``) has no Rasa and no HTTP in it: actions, the REST API and jobs
call it and turn its outcomes into words.
"""
