"""Outreach: the phone screen for street and van teams, its sealed offline outbox, the
sync that records contacts exactly once, zones, and the review of held contacts.

``views.py`` holds the blueprint; the package itself imports nothing, so the command
line's ``ssp outreach --help`` starts fast.
"""
