#!/usr/bin/python3
"""Helpers of bench/e2e.sh (Debian's python3, standard library only).

  e2e_driver.py paced URL TOKEN RATE SECONDS BATCH CLIENTS PREFIX OUT
      Posts RATE events/s for SECONDS to URL (POST /api/v1/events), BATCH events per request, on
      CLIENTS keep-alive connections taking turns on a fixed schedule (request k is due at
      t0 + k * BATCH / RATE; a late request is sent at once, never skipped). Writes one line per
      event to OUT: "<event id> <send ms> <ack ms>" (unix ms, CLOCK_REALTIME): send = just before
      the request was written, ack = when the 202 response had been read. Prints a summary.
  e2e_driver.py latency OUT SINK_LOG [JOBS]
      Joins OUT with the sink's access log ("<$msec> <Idempotency-Key> <X-Auri-Event-Id>" a
      line) and prints percentiles of received - ack and received - send over every delivery.
      With JOBS ("<job id> <created_at unix ms>" a line: the start of the event-processor's
      transaction that created the job), also the split at that point: ack -> job created
      (notification and pick-up by the processor) and job created -> received (evaluation,
      commit, the workers' wake-up, claim, preparation and the request).
  e2e_driver.py drain SINK_LOG T0_MS JOBS
      Delivery rate of a saturation run that started at T0_MS: JOBS / (last receive - T0), and
      the median of the per-second receive counts between the first and the last full second.
"""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ingest_driver import event  # noqa: E402  (the event shape of bench/ingest.sh)


def now_ms():
    return time.time() * 1000.0


def paced(url, token, rate, seconds, batch, clients, prefix, out):
    u = urllib.parse.urlparse(url)
    total = int(rate * seconds)
    requests = (total + batch - 1) // batch
    interval = batch / rate  # seconds between consecutive requests (all clients together)
    now = int(time.time())
    bodies, ids = [], []
    for k in range(requests):
        items = [event(prefix, n, now) for n in range(k * batch, min(total, (k + 1) * batch))]
        bodies.append(json.dumps({"events": items}).encode())
        ids.append(["%s-%d-%s-%d" % (e["registry"], e["chain_id"], e["transaction_hash"],
                                      e["log_index"]) for e in items])
    records = [None] * requests
    errors = []
    late = [0.0] * clients
    t0 = time.monotonic() + 0.2

    def worker(c):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        for k in range(c, requests, clients):
            due = t0 + k * interval
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            else:
                late[c] = max(late[c], -wait)
            send = now_ms()
            conn.request("POST", u.path, body=bodies[k], headers=headers)
            r = conn.getresponse()
            data = r.read()
            ack = now_ms()
            if r.status != 202:
                errors.append("%d %s" % (r.status, data[:200]))
                return
            records[k] = (send, ack)

    threads = [threading.Thread(target=worker, args=(c,)) for c in range(clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start - 0.2
    if errors:
        sys.exit("ingest failed: " + errors[0])
    with open(out, "w") as f:
        for k, (send, ack) in enumerate(records):
            for i in ids[k]:
                f.write("%s %.3f %.3f\n" % (i, send, ack))
    acks = sorted(a - s for s, a in records)
    print("sent %d events in %d requests over %.1f s (%.0f events/s); ingest request time p50 %.1f "
          "ms, p99 %.1f ms; latest request %.0f ms behind schedule" % (
              total, requests, elapsed, total / elapsed, pct(acks, 50), pct(acks, 99),
              1000 * max(late)))


def pct(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(-(-p * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


def read_sink(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                rows.append((float(parts[0]) * 1000.0, parts[1], parts[2]))
    return rows


def latency(out, sink_log, jobs_file=None):
    sent = {}
    with open(out) as f:
        for line in f:
            i, s, a = line.split()
            sent[i] = (float(s), float(a))
    rows = read_sink(sink_log)
    from_ack, from_send, unknown = [], [], 0
    keys = set()
    for received, key, event_id in rows:
        keys.add(key)
        if event_id not in sent:
            unknown += 1
            continue
        s, a = sent[event_id]
        from_ack.append(received - a)
        from_send.append(received - s)
    from_ack.sort()
    from_send.sort()
    fmt = "p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms"
    print("deliveries %d (distinct idempotency keys %d, of events not sent by this run %d)" % (
        len(rows), len(keys), unknown))
    print("latency ingest-ack -> webhook-received: " + fmt % (
        pct(from_ack, 50), pct(from_ack, 90), pct(from_ack, 99), from_ack[-1] if from_ack else 0))
    print("latency ingest-send -> webhook-received: " + fmt % (
        pct(from_send, 50), pct(from_send, 90), pct(from_send, 99),
        from_send[-1] if from_send else 0))
    if jobs_file:
        created = {}
        with open(jobs_file) as f:
            for line in f:
                j, c = line.split()
                created[j] = float(c)
        pickup, rest = [], []
        for received, key, event_id in rows:
            if key in created and event_id in sent:
                pickup.append(created[key] - sent[event_id][1])
                rest.append(received - created[key])
        pickup.sort()
        rest.sort()
        print("  of which ingest-ack -> job created (processor pick-up): " + fmt % (
            pct(pickup, 50), pct(pickup, 90), pct(pickup, 99), pickup[-1] if pickup else 0))
        print("  of which job created -> webhook-received: " + fmt % (
            pct(rest, 50), pct(rest, 90), pct(rest, 99), rest[-1] if rest else 0))
    print("P50_MS=%.1f P99_MS=%.1f" % (pct(from_ack, 50), pct(from_ack, 99)))


def drain(sink_log, t0_ms, jobs):
    rows = [r for r in read_sink(sink_log) if r[0] >= t0_ms]
    if not rows:
        sys.exit("no deliveries after T0")
    received = sorted(r[0] for r in rows)
    keys = {r[1] for r in rows}
    with open(sink_log) as f:
        connections = {p[3] for p in (line.split() for line in f)
                       if len(p) == 4 and float(p[0]) * 1000.0 >= t0_ms}
    first, last = received[0], received[-1]
    per_second = {}
    for r in received:
        s = int((r - first) // 1000)
        per_second[s] = per_second.get(s, 0) + 1
    full = sorted(per_second[s] for s in per_second if 0 < s < max(per_second))
    steady = full[len(full) // 2] if full else float("nan")
    print("delivered %d distinct of %d jobs (%d requests, %d duplicates) over %d connections; "
          "first after %.0f ms, last after %.0f ms" % (
              len(keys), jobs, len(rows), len(rows) - len(keys), len(connections),
              first - t0_ms, last - t0_ms))
    print("overall %.0f actions/s (jobs / (last receive - start)); steady %s actions/s (median of "
          "%d full seconds)" % (jobs / ((last - t0_ms) / 1000.0), steady, len(full)))
    print("RATE=%.0f STEADY=%s" % (jobs / ((last - t0_ms) / 1000.0), steady))
    if len(keys) != jobs or len(rows) != len(keys):
        sys.exit("saturation run: expected each of the %d jobs exactly once" % jobs)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "paced":
        paced(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]),
              int(sys.argv[7]), sys.argv[8], sys.argv[9])
    elif cmd == "latency":
        latency(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    elif cmd == "drain":
        drain(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(__doc__)
