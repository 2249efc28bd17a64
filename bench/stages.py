"""Per-stage time of the walk (validate, dedupe, enrich, compute, decide, update, store), in process.

    .venv/bin/python bench/stages.py
"""
import sys, time, tempfile, os
sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
os.sched_setaffinity(0, {0})
from decide import *
events = traffic(14000)
folder = Path(tempfile.mkdtemp())
rt = Runtime.open(Settings.from_env({}, data_dir=folder, pii_key="b"), background=False)
for e in events[:4000]:
    accept(rt, DEMO, e).wait()
from tianwang.ingest import walk as W
parts = {k: 0.0 for k in ["validate","dedupe","enrich","compute","decide","update","store"]}
t0=time.perf_counter()
pend=[]
for e in events[4000:]:
    a=time.perf_counter(); ev=W.validate(e); bh=W.fingerprint(e)
    b=time.perf_counter(); W.dedupe(rt, DEMO, ev.event_id, bh)
    c=time.perf_counter(); rec=W.enrich(rt, ev); bundle,ver=rt.bundle("demo")
    d=time.perf_counter(); vals,err=W.compute_variables(rt, DEMO, bundle, rec)
    e2=time.perf_counter(); dec=W.decide(bundle, ver, rec, vals, err, d)
    f=time.perf_counter(); W.update_state(rt, DEMO, bundle, rec)
    g=time.perf_counter(); fut=W.store(rt, DEMO, rec, dec, bh, bundle); pend.append(fut)
    h=time.perf_counter()
    for k,(x,y) in zip(parts,[(a,b),(b,c),(c,d),(d,e2),(e2,f),(f,g),(g,h)]): parts[k]+=y-x
    if len(pend)>512: pend.pop(0).result()
for p in pend: p.result()
el=time.perf_counter()-t0
print("rate", 10000/el, "per event us", el/10000*1e6)
for k,v in parts.items(): print(f"{k:10} {v/10000*1e6:7.1f} us")
rt.close()
