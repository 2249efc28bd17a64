"""Case work behind the console (案件调查): alerts grouped into cases (alerts.py) and what an
investigator does with a case — assign, move on, note, look at, dispose (service.py)."""
