"""Drug checking and community alerts: what samples were sold as and what the tests
found, what is rising, and alerts drafted, approved by a second manager and printed.

``models.py`` holds the tables; ``services.py`` the lists and the rules of a result;
``trends.py`` the counts per week or month and the signal rule; ``alerts.py``,
``flyer.py`` and ``alert_views.py`` the alerts; ``views.py`` the result form, the trends
page and the lists; ``cli.py`` ``ssp drug-check``. The package itself imports nothing.
"""
