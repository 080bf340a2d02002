"""留抵退税: the VAT credit refund, from the rules to the paid application. One app label, one set of models and
migrations, in packages:

- ``rules/`` — the policy as code, pure (no Django): cases in, decisions out, every figure with its article.
- ``screening/`` — runs, results, return states, the set-based statement, a taxpayer's explanation and what-if.
- ``candidates/`` — push dates, candidate lists and items, the funnel, reminders, the higher bureau's lists.
- ``applications/`` — applications, their workflow, the risk gate and its registry, batch approval, coaching,
  claims and the core system's imports.

Shared by the packages: ``models/`` (one module per package), ``labels`` (the one table of Chinese words for
the codes), ``signals``, ``tasks``, ``urls``. Each package has ``services`` (writes), ``selectors`` (reads),
``views``, ``forms`` and its ``tests/``.
"""
