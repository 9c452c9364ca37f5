"""GridDesk's knowledge base: FAQs, their embeddings and hybrid retrieval.

Services here never talk to users: they return outcomes that actions, HTTP views and the CLI
(``python -m knowledge_base``) turn into words.
"""
