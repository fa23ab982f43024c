"""Importing a program's spreadsheet history: mappings, previews, batches, undo.

``reading.py`` reads a CSV or XLSX file; ``mapping.py`` says which column holds which
field (proposed from the headers, saved by name); ``plan.py`` checks every row and works
out the preview without writing; ``writer.py`` writes a plan in one transaction and
undoes a batch; ``services.py`` strings the steps together; ``jobs.py`` runs them in the
background for the page; ``views.py`` is the import page (Admin > Import a spreadsheet)
and ``cli.py`` ``ssp import``.
The package itself imports nothing, so ``ssp import --help`` starts fast.
"""
