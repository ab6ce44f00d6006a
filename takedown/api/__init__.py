"""The REST API (v1) for API clients: bulk URL intake, status and evidence, notices, statistics.

Views are thin: they scope every query to the caller's agency, check the caller's role, and
hand writes to the intake service (takedown.importing) or the notice services
(takedown.notices). The contract: /api/docs/ and the README's "The REST API".
"""
