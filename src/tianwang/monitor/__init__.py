"""Global monitoring: the real-time cube of every stored decision (cube.py, redis_cube.py) and the
decided stream that feeds it (feed.py)."""
