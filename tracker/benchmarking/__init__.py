"""How the tracker's cost grows with its data, measured against what PostgreSQL alone can do.

`measure` times and counts, `floor` holds the single-query PostgreSQL versions
of the list page and the overview, `variants` the plain and the tuned DRF
viewsets a Django team would otherwise write, and `runner` puts the
measurements of one data size together for `manage.py benchmark`.
"""
