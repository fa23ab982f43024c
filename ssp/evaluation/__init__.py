"""Evaluation: line-level, de-identified data for evaluators (a university, a health
department), made fresh for each request and audited.

``export.py`` is the service (the request's checks, then the records, k-anonymity, the
files and the audit row); ``records.py`` reads the visits; ``columns.py`` holds the
quasi-identifier columns and the method's order of steps; ``kanon.py`` is the
k-anonymity algorithm; ``writers.py`` writes the CSV or Parquet file, the cover note and
the zip; ``views.py`` is the managers' page and ``cli.py`` the ``ssp export`` command.
The method is explained in docs/evaluator-export.md. The package itself imports
nothing, so ``ssp export --help`` starts fast.
"""
