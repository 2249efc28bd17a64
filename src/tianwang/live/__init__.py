"""Every tenant's in-memory state and the one lock it changes under (memory.py), how it is told
to other replicas (changes.py, ops.py), restored (restore.py), checkpointed (checkpoint.py), and
the live policy of each tenant (policies.py)."""
