"""Pure formats: text in, values out, no Git and no repository.

The prompt file (``promptfile``), templates (``template``), prompt references and names
(``references``), the search filter (``search_filter``), ``promptctl.yaml``
(``config``), lock files (``lockfile``) and alias-log records (``aliaslog``). Nothing
here is imported by this package's ``__init__``: a load imports only the formats it uses.
"""
