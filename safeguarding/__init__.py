"""Shared domain code for the Safeguarding Learning Loop: the case model, the deadline policy,
the working-day calendar, the read model and settings. Workflows import only the pure modules
(``case``, ``policy``, ``deadlines``)."""
