-- The action-workers' claim (as ClaimDueJobs) and finish (as FinishJobs, all outcomes successful)
-- for pgbench -M extended, run by bench/delivery_sql.sh; :b is the batch size.
WITH c AS (UPDATE action_jobs j SET status = 'running', lease_owner = 'w', lease_expires_at = now() + make_interval(secs => 60), updated_at = now()
  WHERE j.id = ANY (ARRAY(SELECT id FROM action_jobs WHERE status = 'pending' AND next_attempt_at <= now() ORDER BY priority, created_at LIMIT :b FOR UPDATE SKIP LOCKED))
  RETURNING j.id, j.trigger_id, j.event_id, j.action_type, j.config::text, j.event_data::text,
  (SELECT t.name FROM triggers t WHERE t.id = j.trigger_id), j.attempts, j.max_attempts, (extract(epoch FROM j.created_at) * 1000)::bigint)
SELECT array_agg(id)::text AS ids, count(*) AS n, length(string_agg(event_data || config, '')) AS sz FROM c
\gset
WITH o AS (SELECT * FROM unnest(:ids::uuid[], array_fill(true, ARRAY[:n::int]), array_fill(1, ARRAY[:n::int]), array_fill(3::bigint, ARRAY[:n::int]), array_fill(200, ARRAY[:n::int]), array_fill(NULL::text, ARRAY[:n::int]), array_fill(''::text, ARRAY[:n::int])) AS o(id, success, attempts, duration_ms, code, error, excerpt)),
 moved AS (UPDATE action_jobs j SET status = CASE WHEN o.success THEN 'succeeded' ELSE 'dead' END, attempts = o.attempts, lease_owner = NULL, lease_expires_at = NULL, last_error = o.error, last_status_code = o.code, updated_at = now()
  FROM o WHERE j.id = o.id AND j.status = 'running' AND j.lease_owner = 'w' RETURNING j.id, j.trigger_id, j.event_id, j.action_type)
INSERT INTO action_results (job_id, trigger_id, event_id, action_type, status, attempts, duration_ms, status_code, error, response_excerpt)
SELECT m.id, m.trigger_id, m.event_id, m.action_type, CASE WHEN o.success THEN 'success' ELSE 'failed' END, o.attempts, o.duration_ms, o.code, o.error, o.excerpt FROM moved m JOIN o ON o.id = m.id;
