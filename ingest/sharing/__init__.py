"""Sharing with the agglomeration: consents, releases of protected aggregates, the team's access.

``consents`` changes what a tester shares; ``release`` computes and stores a release from the
consenting testers only; ``scheduler`` runs releases in the API process; ``team`` holds the mobility
team's accounts and dashboard sessions.
"""
