#!/usr/bin/python3
"""Helpers of bench/ingest.sh (Debian's python3, standard library only).

  ingest_driver.py gen PREFIX EVENTS BATCH OUTDIR
      Writes OUTDIR/batch-NNNNN.json ({"events": [...]}, BATCH events each) and OUTDIR/rows.csv
      (the same events as rows of the events table, for COPY). PREFIX (one hex digit) makes the
      transaction hashes, hence the ids, distinct from other sets.
  ingest_driver.py post URL TOKEN CLIENTS OUTDIR
      POSTs every batch file of OUTDIR to URL with CLIENTS concurrent keep-alive connections;
      prints "<accepted events> <seconds>".
  ingest_driver.py lua-single OUT.lua TOKEN PREFIX
      Writes a wrk script that POSTs one new event per request.
"""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

CLIENT = "0x" + "c0ffee".rjust(40, "0")


def event(prefix, n, now):
    tx = "0x" + prefix + format(n, "x").rjust(63, "0")
    return {
        "chain_id": 11155111, "block_number": 9000000 + n, "transaction_hash": tx,
        "log_index": 0, "registry": "reputation", "event_type": "NewFeedback",
        "agent_id": n % 500, "timestamp": now - 3600 + n % 3600, "client_address": CLIENT,
        "feedback_index": n, "score": (n * 37) % 101, "tag1": "quality",
    }


def gen(prefix, events, batch, outdir):
    os.makedirs(outdir, exist_ok=True)
    now = int(time.time())
    rows = open(os.path.join(outdir, "rows.csv"), "w")
    for start in range(0, events, batch):
        items = [event(prefix, n, now) for n in range(start, min(events, start + batch))]
        with open(os.path.join(outdir, "batch-%05d.json" % (start // batch)), "w") as f:
            json.dump({"events": items}, f)
        for e in items:
            eid = "%s-%d-%s-%d" % (e["registry"], e["chain_id"], e["transaction_hash"], e["log_index"])
            bt = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(e["timestamp"]))
            rows.write(",".join(str(v) for v in [
                eid, e["chain_id"], e["block_number"], e["transaction_hash"], e["log_index"],
                e["registry"], e["event_type"], e["agent_id"], e["timestamp"], bt,
                e["client_address"], e["feedback_index"], e["score"], e["tag1"]]) + "\n")
    rows.close()


def post(url, token, clients, outdir):
    u = urllib.parse.urlparse(url)
    files = sorted(f for f in os.listdir(outdir) if f.startswith("batch-"))
    bodies = [open(os.path.join(outdir, f), "rb").read() for f in files]
    accepted = [0] * clients
    errors = []

    def worker(k):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        for body in bodies[k::clients]:
            conn.request("POST", u.path, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            if r.status != 202:
                errors.append("%d %s" % (r.status, data[:200]))
                return
            accepted[k] += json.loads(data)["accepted"]

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    if errors:
        sys.exit("ingest failed: " + errors[0])
    print(sum(accepted), "%.3f" % elapsed)


LUA = r'''-- One new reputation/NewFeedback event per request (ids unique per thread and request).
local counter = 0
local thread_id = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  thread_id = tid
end
request = function()
  counter = counter + 1
  local n = thread_id * 100000000 + counter
  local tx = string.format("0x%s%063x", "PREFIX", n)
  local body = string.format('{"chain_id":11155111,"block_number":%d,"transaction_hash":"%s",'
    .. '"log_index":0,"registry":"reputation","event_type":"NewFeedback","agent_id":%d,'
    .. '"timestamp":NOW,"client_address":"CLIENT","feedback_index":%d,"score":%d,'
    .. '"tag1":"quality"}', 9000000 + n % 1000000, tx, n % 500, n, (n * 37) % 101)
  return wrk.format("POST", "/api/v1/events",
    {["Authorization"] = "Bearer TOKEN", ["Content-Type"] = "application/json"}, body)
end
errors = 0
response = function(status, headers, body)
  if status ~= 202 then
    errors = errors + 1
    if errors == 1 then io.stderr:write("HTTP " .. status .. ": " .. body .. "\n") end
  end
end
function done(summary, latency, requests)
  local e = 0
  for _, t in ipairs(threads) do e = e + t:get("errors") end
  io.write(string.format("non-202 responses: %d\n", e))
end
'''


def lua_single(out, token, prefix):
    text = (LUA.replace("TOKEN", token).replace("PREFIX", prefix)
            .replace("NOW", str(int(time.time()) - 60)).replace("CLIENT", CLIENT))
    open(out, "w").write(text)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif cmd == "post":
        post(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif cmd == "lua-single":
        lua_single(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
