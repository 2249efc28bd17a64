"""The composition root: the one place that knows every part (Marble's usecases.go).

`boot.open(settings)` builds the platform from settings — migrations, keys, tenants, live
policies, the live state restored, the writer, the monitoring cube, the background workers —
and hands out a plain `Platform` of narrow parts (platform.py). Only `app/` imports `app/`.
"""
