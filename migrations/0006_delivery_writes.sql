-- 0006_delivery_writes: fewer writes per delivered action job (issue 5, bench/e2e.sh saturation).
--
-- Every delivered job is written three times: the claim UPDATE, the outcome UPDATE (neither can be
-- HOT: status is in the predicates of the claim and lease indexes, and the spec wants the status
-- column), and the action_results INSERT. Each non-HOT update adds an entry to every index of
-- action_jobs, so this migration removes work that bought nothing. Measured with claim + finish
-- batches of 200 on 50,000 jobs (PostgreSQL CPU per job, bench/delivery_sql.sh; docs/decisions.md
-- "Delivery throughput and latency"): 190-198 us before, 130-149 us after.

-- 1. One index fewer on action_jobs. The uniqueness of (event_id, action_id) is kept, but with
--    action_id first the same index serves the trigger_actions foreign key's ON DELETE SET NULL,
--    which action_jobs_action_idx existed for. ON CONFLICT (event_id, action_id) infers a unique
--    index regardless of its column order. Nothing looks jobs up by event_id alone.
ALTER TABLE action_jobs DROP CONSTRAINT action_jobs_one_per_event_action;
ALTER TABLE action_jobs
  ADD CONSTRAINT action_jobs_one_per_event_action UNIQUE (action_id, event_id);
DROP INDEX action_jobs_action_idx;

-- 2. updated_at: the trigger runs only when the statement did not set updated_at itself, so the
--    workers' statements (which set it) skip a PL/pgSQL call per row; every other writer keeps
--    getting it from the trigger.
DROP TRIGGER action_jobs_set_updated_at ON action_jobs;
CREATE TRIGGER action_jobs_set_updated_at BEFORE UPDATE ON action_jobs
  FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
  EXECUTE FUNCTION auri_set_updated_at();

-- 3. action_results.trigger_id needs no foreign key of its own: it is copied from the job, whose
--    trigger_id references triggers ON DELETE CASCADE, and the result references the job ON
--    DELETE CASCADE, so deleting a trigger still deletes its results (through its jobs). The check
--    cost a lookup and a row lock on the trigger per result row.
ALTER TABLE action_results DROP CONSTRAINT action_results_trigger_id_fkey;
