"""``manage.py benchmark``: the performance figures of ``quality.md``, measured on a database of
the benchmark's own with generated data of realistic size, each next to a bare-SQL (or bare
Django view) ceiling measured in the same run on the same data.

- ``database``: the benchmark's own PostgreSQL database and the marker that says what it holds;
- ``generate``: the region, members and keys through the real services, then millions of
  entries made by PostgreSQL itself, then the consensus filled by the project's own engine;
- ``baselines``: the bare statements (the ceilings), run through psycopg2;
- ``server``, ``http_load``: a real gunicorn process and the load driver that measures it;
- ``scenarios``: the ``lookups`` and ``consensus`` runs that put it all together;
- ``stats``: medians, percentiles and the machine's description.

None of it is part of the product; it only measures it.
"""
