-- 0007_job_ids: a job's id is derived from its (action, event); two indexes fewer on the delivery
-- path (issue 5, bench/e2e.sh saturation; docs/decisions.md "Job ids derived from action and event").
--
-- Every delivered job is two non-HOT updates of action_jobs and one insert into action_results,
-- and each adds an entry to every index of its table. This migration removes one index from each
-- table without losing what they guarded:
--
-- 1. action_jobs_one_per_event_action (UNIQUE (action_id, event_id)) goes. Its guarantee, one job
--    per (event, action), is now the primary key's: a BEFORE INSERT trigger sets the id of every
--    job that names its action to auri_job_id(action_id, event_id), a name-based UUID (version 8,
--    SHA-256 of both), so a second job for the pair is a primary-key conflict and the processor's
--    ON CONFLICT (id) DO NOTHING skips it. A bonus for recovery: an event ingested again after a
--    restore (or after its job was purged) gets the same job id, i.e. the same Idempotency-Key
--    and webhook-id, so receivers that de-duplicate do not act on it twice.
--    Jobs created before this migration keep their random ids (nothing re-creates them: the
--    processor deletes an event from event_queue in the transaction that inserts its jobs).
CREATE FUNCTION auri_job_id(action_id uuid, event_id text) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  -- RFC 9562 UUIDv8: 128 bits of the hash, version nibble 8, variant bits 10.
  SELECT encode(set_byte(set_byte(substring(h FROM 1 FOR 16),
                                  6, (get_byte(h, 6) & 15) | 128),
                         8, (get_byte(h, 8) & 63) | 128), 'hex')::uuid
  FROM (SELECT sha256(convert_to(action_id::text || ' ' || event_id, 'UTF8')) AS h) AS s
$$;

CREATE FUNCTION auri_set_job_id() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.action_id IS NOT NULL THEN
    NEW.id := auri_job_id(NEW.action_id, NEW.event_id);
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER action_jobs_set_id BEFORE INSERT ON action_jobs
  FOR EACH ROW EXECUTE FUNCTION auri_set_job_id();

ALTER TABLE action_jobs DROP CONSTRAINT action_jobs_one_per_event_action;

-- 2. That unique index (action_id first, 0006) also served the action_id foreign key's ON DELETE
--    SET NULL. The foreign key goes; deleting an action still clears the reference in its jobs
--    (they keep their config snapshot), through the trigger's jobs (action_jobs_trigger_idx): an
--    action always belongs to its job's trigger. When the whole trigger is being deleted its jobs
--    go by cascade, so they are not updated first. `dr check` verifies that no job names an
--    action that does not exist.
ALTER TABLE action_jobs DROP CONSTRAINT action_jobs_action_id_fkey;

CREATE FUNCTION auri_forget_deleted_action() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM triggers WHERE id = OLD.trigger_id) THEN
    UPDATE action_jobs SET action_id = NULL
    WHERE trigger_id = OLD.trigger_id AND action_id = OLD.id;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER trigger_actions_forget_in_jobs AFTER DELETE ON trigger_actions
  FOR EACH ROW EXECUTE FUNCTION auri_forget_deleted_action();

-- 3. action_results: the primary key becomes (job_id, id), which also serves the job foreign
--    key's cascade and the lookups by job, so action_results_job_idx goes. id is still a random
--    UUID and still what the API returns.
ALTER TABLE action_results DROP CONSTRAINT action_results_pkey;
DROP INDEX action_results_job_idx;
ALTER TABLE action_results ADD CONSTRAINT action_results_pkey PRIMARY KEY (job_id, id);
