-- 0001_core: the complete core schema of Auri (specs 10-api, 20-pipeline, 30-delivery).
--
-- Applied by src/store/migrations.cc inside one transaction and recorded in schema_migrations with
-- the sha256 of this file. Never edit this file once it has been applied anywhere: add a new
-- numbered migration instead (the runner refuses a changed file).
--
-- Conventions:
--   * ids are uuid (gen_random_uuid(), built into PostgreSQL 13+; no extension needed), except
--     events (the natural id of 20-pipeline.md) and append-only logs (bigint identity).
--   * every timestamp is timestamptz; created_at/updated_at are maintained by the database.
--   * CHECK constraints mirror the limits the specs state, so the database rejects what the API
--     must reject even when a row arrives by another path (psql, restore, recover-rows). They check
--     character counts, never bytes, so they are never stricter than the API's validation.
--   * NOTIFY is used as a wake-up only; every listener also polls, so a lost notification costs
--     latency, never data.
--
-- Delete behaviour, decided once for the whole schema:
--   * An organization owns everything of a tenant: deleting it cascades to members, API keys and
--     their audit log, triggers and (through triggers) conditions, actions, state, jobs, results.
--   * A trigger owns its conditions, actions, per-condition state, action jobs and action results:
--     deleting a trigger deletes its pending jobs (the user asked for it to stop) and its delivery
--     history (only reachable through the trigger's API routes, which are gone with it). This also
--     makes the DR invariant "every job references an existing trigger" hold by construction.
--   * Deleting an action keeps the jobs already created from it (they carry a snapshot of the
--     config and are delivered as created); their action_id becomes NULL.
--   * Deleting a user removes their memberships and refresh tokens; rows the user merely created
--     or revoked (triggers, API keys) stay with the organization and lose the reference (SET NULL).
--     An organization's owner cannot be deleted before ownership is transferred (see the owner
--     check below).
--   * Jobs and results do not reference events by foreign key: they carry the event data they
--     need, and event retention (partitions dropped after a year) must not touch them.

-- ---------------------------------------------------------------------------------------------
-- Shared trigger functions
-- ---------------------------------------------------------------------------------------------

-- Keeps updated_at honest without every writer remembering to set it.
CREATE FUNCTION auri_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Users, organizations, membership
-- ---------------------------------------------------------------------------------------------

CREATE TABLE users (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username              text NOT NULL CHECK (char_length(username) BETWEEN 3 AND 50),
  email                 text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 320),
  password_hash         text NOT NULL,                     -- argon2id, encoded form
  is_active             boolean NOT NULL DEFAULT true,
  failed_login_attempts integer NOT NULL DEFAULT 0 CHECK (failed_login_attempts >= 0),
  locked_until          timestamptz,                       -- progressive lockout (10-api.md)
  last_login_at         timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
-- Case-insensitive uniqueness: "Alice" and "alice" are the same account name, and login looks
-- users up by lower(username) / lower(email), which these indexes also serve.
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION auri_set_updated_at();

CREATE TABLE organizations (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
  slug        text NOT NULL UNIQUE
              CHECK (char_length(slug) <= 100 AND slug ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$'),
  description text CHECK (char_length(description) <= 1000),
  plan        text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'starter', 'pro', 'enterprise')),
  is_personal boolean NOT NULL DEFAULT false,              -- created at registration; not deletable
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER organizations_set_updated_at BEFORE UPDATE ON organizations
  FOR EACH ROW EXECUTE FUNCTION auri_set_updated_at();

CREATE TABLE organization_members (
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role            text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX organization_members_user_idx ON organization_members (user_id);
-- At most one owner per organization. A transfer therefore demotes the old owner before promoting
-- the new one, in one transaction.
CREATE UNIQUE INDEX organization_members_one_owner_key
  ON organization_members (organization_id) WHERE role = 'owner';

-- At least one owner per organization, checked at commit (deferred), so an organization and its
-- owner can be inserted in either order within a transaction, and a transfer may pass through a
-- moment without an owner. Together with the index above: exactly one owner.
CREATE FUNCTION auri_check_organization_has_owner() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  org uuid;
BEGIN
  IF TG_TABLE_NAME = 'organizations' THEN
    org := NEW.id;
  ELSE
    org := OLD.organization_id;
  END IF;
  IF EXISTS (SELECT 1 FROM organizations WHERE id = org)
     AND NOT EXISTS (SELECT 1 FROM organization_members
                     WHERE organization_id = org AND role = 'owner') THEN
    RAISE EXCEPTION 'organization % has no owner', org
      USING ERRCODE = 'check_violation',
            HINT = 'every organization needs exactly one member with role owner; transfer '
                   'ownership before removing or demoting the owner';
  END IF;
  RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER organizations_have_owner
  AFTER INSERT ON organizations DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION auri_check_organization_has_owner();
CREATE CONSTRAINT TRIGGER organization_members_keep_owner
  AFTER UPDATE OR DELETE ON organization_members DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION auri_check_organization_has_owner();

-- ---------------------------------------------------------------------------------------------
-- API keys and authentication records
-- ---------------------------------------------------------------------------------------------

CREATE TABLE api_keys (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name                text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
  -- The first 16 characters of the key ("sk_live_" or "sk_test_" + 8): the lookup handle. The
  -- whole key is stored only as an argon2id hash.
  prefix              text NOT NULL UNIQUE CHECK (prefix ~ '^sk_(live|test)_[A-Za-z0-9_-]{8}$'),
  key_hash            text NOT NULL,
  environment         text NOT NULL CHECK (environment IN ('live', 'test')),
  permissions         text[] NOT NULL DEFAULT '{read}'
                      CHECK (permissions <@ ARRAY['read', 'write', 'delete', 'admin']),
  rate_limit_override integer CHECK (rate_limit_override > 0),  -- requests per hour
  created_by          uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  last_used_at        timestamptz,
  last_used_ip        inet,
  expires_at          timestamptz,
  revoked_at          timestamptz,
  revoked_by          uuid REFERENCES users (id) ON DELETE SET NULL,
  revocation_reason   text,
  CONSTRAINT api_keys_prefix_matches_environment CHECK (substr(prefix, 4, 4) = environment),
  CONSTRAINT api_keys_revocation_fields_need_revoked_at
    CHECK (revoked_at IS NOT NULL OR (revoked_by IS NULL AND revocation_reason IS NULL))
);
CREATE INDEX api_keys_organization_idx ON api_keys (organization_id, created_at DESC);
CREATE TRIGGER api_keys_set_updated_at BEFORE UPDATE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION auri_set_updated_at();

-- Every use, failure, rotation and revocation of a key (10-api.md). Append-only.
CREATE TABLE api_key_audit_log (
  id              bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  api_key_id      uuid REFERENCES api_keys (id) ON DELETE SET NULL,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  event_type      text NOT NULL CHECK (event_type IN ('created', 'used', 'rotated', 'revoked',
                                                      'auth_failed', 'rate_limited')),
  ip_address      inet,
  user_agent      text,
  endpoint        text,
  details         jsonb,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_key_audit_log_organization_idx
  ON api_key_audit_log (organization_id, created_at DESC);
CREATE INDEX api_key_audit_log_key_idx ON api_key_audit_log (api_key_id, created_at DESC);

-- Authentication failures that cannot be attributed to a key (unknown prefix, malformed key...).
CREATE TABLE auth_failures (
  id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  failure_type text NOT NULL,
  key_prefix   text,
  ip_address   inet,
  user_agent   text,
  endpoint     text,
  details      jsonb,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX auth_failures_created_idx ON auth_failures (created_at DESC);
CREATE INDEX auth_failures_ip_idx ON auth_failures (ip_address, created_at DESC);

-- Refresh tokens, stored as sha256 hex. Rotated on every use: the used token is revoked and points
-- at its successor (replaced_by); all tokens of one login share family_id, so reuse of a rotated
-- token can revoke the whole family.
CREATE TABLE user_refresh_tokens (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash   text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  family_id    uuid NOT NULL,
  expires_at   timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz,
  replaced_by  uuid REFERENCES user_refresh_tokens (id) ON DELETE SET NULL,
  user_agent   text,
  ip_address   inet
);
-- Live sessions of a user, oldest first (the 11th login revokes the oldest).
CREATE INDEX user_refresh_tokens_live_idx
  ON user_refresh_tokens (user_id, created_at) WHERE revoked_at IS NULL;
CREATE INDEX user_refresh_tokens_family_idx ON user_refresh_tokens (family_id);

-- ---------------------------------------------------------------------------------------------
-- Triggers, conditions, actions, per-condition state
-- ---------------------------------------------------------------------------------------------

CREATE TABLE triggers (
  id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id             uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id                     uuid REFERENCES users (id) ON DELETE SET NULL,  -- creator
  name                        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
  description                 text,
  chain_id                    bigint CHECK (chain_id > 0),  -- NULL = any chain
  registry                    text NOT NULL
                              CHECK (registry IN ('identity', 'reputation', 'validation')),
  enabled                     boolean NOT NULL DEFAULT true,
  is_stateful                 boolean NOT NULL DEFAULT false,
  -- Circuit breaker (20-pipeline.md): runtime state...
  cb_state                    text NOT NULL DEFAULT 'Closed'
                              CHECK (cb_state IN ('Closed', 'Open', 'HalfOpen')),
  cb_failure_count            integer NOT NULL DEFAULT 0 CHECK (cb_failure_count >= 0),
  cb_last_failure_time        timestamptz,
  cb_opened_at                timestamptz,
  cb_half_open_calls          integer NOT NULL DEFAULT 0 CHECK (cb_half_open_calls >= 0),
  -- ...and configuration.
  cb_failure_threshold        integer NOT NULL DEFAULT 10
                              CHECK (cb_failure_threshold BETWEEN 1 AND 1000),
  cb_recovery_timeout_seconds integer NOT NULL DEFAULT 3600
                              CHECK (cb_recovery_timeout_seconds BETWEEN 60 AND 604800),
  cb_half_open_max_calls      integer NOT NULL DEFAULT 1
                              CHECK (cb_half_open_max_calls BETWEEN 1 AND 10),
  created_at                  timestamptz NOT NULL DEFAULT now(),
  updated_at                  timestamptz NOT NULL DEFAULT now(),
  -- An open breaker needs the time it opened to know when to try HalfOpen.
  CONSTRAINT triggers_open_breaker_has_opened_at
    CHECK (cb_state <> 'Open' OR cb_opened_at IS NOT NULL)
);
CREATE INDEX triggers_organization_idx ON triggers (organization_id, created_at DESC);
CREATE INDEX triggers_registry_enabled_idx ON triggers (registry, enabled);
CREATE INDEX triggers_user_idx ON triggers (user_id);

-- The definition of a trigger, i.e. the row without the circuit breaker's runtime state. The
-- event-processor updates that state on every evaluation failure; such updates must neither bump
-- updated_at (the user did not change anything) nor wake every processor to reload its index.
CREATE FUNCTION auri_trigger_definition(t triggers) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT to_jsonb(t) - ARRAY['cb_state', 'cb_failure_count', 'cb_last_failure_time',
                             'cb_opened_at', 'cb_half_open_calls', 'updated_at']
$$;

CREATE TRIGGER triggers_set_updated_at BEFORE UPDATE ON triggers
  FOR EACH ROW WHEN (auri_trigger_definition(OLD) IS DISTINCT FROM auri_trigger_definition(NEW))
  EXECUTE FUNCTION auri_set_updated_at();

CREATE TABLE trigger_conditions (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  trigger_id     uuid NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
  condition_type text NOT NULL
                 CHECK (condition_type IN ('event_type_equals', 'agent_id_equals',
                                           'score_threshold', 'tag_equals', 'field_compare',
                                           'ema_threshold', 'rate_limit')),
  field          text,
  operator       text CHECK (operator IN ('<', '>', '<=', '>=', '=', '==', '!=', '<>',
                                          'contains', 'starts_with')),
  value          text NOT NULL,
  config         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
  -- Creation order, which is evaluation order (conditions AND together in creation order).
  -- created_at cannot order conditions created in one transaction; a sequence can.
  position       bigint GENERATED BY DEFAULT AS IDENTITY,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (id, trigger_id)  -- target of trigger_state's consistency key
);
CREATE INDEX trigger_conditions_trigger_idx ON trigger_conditions (trigger_id, position);
CREATE TRIGGER trigger_conditions_set_updated_at BEFORE UPDATE ON trigger_conditions
  FOR EACH ROW EXECUTE FUNCTION auri_set_updated_at();

CREATE TABLE trigger_actions (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  trigger_id  uuid NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
  action_type text NOT NULL CHECK (action_type IN ('telegram', 'webhook', 'rest')),
  priority    integer NOT NULL DEFAULT 0,  -- lower runs first
  config      jsonb NOT NULL CHECK (jsonb_typeof(config) = 'object'),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trigger_actions_trigger_idx ON trigger_actions (trigger_id, priority, created_at);
CREATE TRIGGER trigger_actions_set_updated_at BEFORE UPDATE ON trigger_actions
  FOR EACH ROW EXECUTE FUNCTION auri_set_updated_at();

-- State of each stateful condition, keyed by condition (so an EMA and a rate counter on one
-- trigger never overwrite each other). The composite key guarantees the condition belongs to the
-- trigger named here.
CREATE TABLE trigger_state (
  condition_id uuid PRIMARY KEY,
  trigger_id   uuid NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
  state        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(state) = 'object'),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (condition_id, trigger_id)
    REFERENCES trigger_conditions (id, trigger_id) ON DELETE CASCADE
);
CREATE INDEX trigger_state_trigger_idx ON trigger_state (trigger_id);
CREATE TRIGGER trigger_state_set_updated_at BEFORE UPDATE ON trigger_state
  FOR EACH ROW EXECUTE FUNCTION auri_set_updated_at();

-- Wakes event-processors to refresh their in-memory trigger index. Payload:
-- {"table", "op", "trigger_id"}. Circuit-breaker state updates are filtered out (see
-- auri_trigger_definition).
CREATE FUNCTION auri_notify_trigger_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  trigger_id uuid;
BEGIN
  IF TG_OP = 'DELETE' THEN
    r := OLD;
  ELSE
    r := NEW;
  END IF;
  IF TG_TABLE_NAME = 'triggers' THEN
    trigger_id := r.id;
  ELSE
    trigger_id := r.trigger_id;
  END IF;
  PERFORM pg_notify('trigger_changed',
                    json_build_object('table', TG_TABLE_NAME, 'op', lower(TG_OP),
                                      'trigger_id', trigger_id)::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER triggers_notify_insert_delete AFTER INSERT OR DELETE ON triggers
  FOR EACH ROW EXECUTE FUNCTION auri_notify_trigger_changed();
CREATE TRIGGER triggers_notify_update AFTER UPDATE ON triggers
  FOR EACH ROW WHEN (auri_trigger_definition(OLD) IS DISTINCT FROM auri_trigger_definition(NEW))
  EXECUTE FUNCTION auri_notify_trigger_changed();
CREATE TRIGGER trigger_conditions_notify AFTER INSERT OR UPDATE OR DELETE ON trigger_conditions
  FOR EACH ROW EXECUTE FUNCTION auri_notify_trigger_changed();
CREATE TRIGGER trigger_actions_notify AFTER INSERT OR UPDATE OR DELETE ON trigger_actions
  FOR EACH ROW EXECUTE FUNCTION auri_notify_trigger_changed();

-- ---------------------------------------------------------------------------------------------
-- Events: partitioned by month of block time, idempotent on id, queued for exactly-once processing
-- ---------------------------------------------------------------------------------------------
--
-- Idempotency vs partitioning. A primary key on a partitioned table must contain the partition
-- key, so events can only have PRIMARY KEY (id, block_time); that would not stop the same id from
-- arriving twice with a different timestamp. Uniqueness of id alone therefore lives in event_ids,
-- a small unpartitioned table (id, block_time) that is the dedupe point. A BEFORE INSERT trigger
-- on events claims the id there (INSERT ... ON CONFLICT DO NOTHING); when the id is already known
-- the row is silently skipped (the trigger returns NULL), so "INSERT INTO events ... RETURNING id"
-- returns exactly the new events and the caller counts duplicates as sent minus returned. The same
-- trigger enqueues the event in event_queue, so every path that inserts an event (the API, COPY,
-- psql) also queues it: no writer can forget, and an event is queued at most once because its id
-- is claimed at most once. Concurrent inserts of one id serialise on event_ids' unique index.
--
-- Restoring rows (auri recover-rows) must copy event_ids with events and insert with
-- session_replication_role = replica, so restored events are neither re-queued nor re-delivered.

CREATE TABLE event_ids (
  id          text PRIMARY KEY,
  block_time  timestamptz NOT NULL,
  ingested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_ids_block_time_idx ON event_ids (block_time);  -- retention

CREATE TABLE events (
  id                text NOT NULL,
  chain_id          bigint NOT NULL CHECK (chain_id > 0),
  block_number      bigint NOT NULL CHECK (block_number >= 0),
  block_hash        text CHECK (block_hash ~ '^0x[0-9a-f]{64}$'),
  transaction_hash  text NOT NULL CHECK (transaction_hash ~ '^0x[0-9a-f]{64}$'),
  log_index         integer NOT NULL CHECK (log_index >= 0),
  registry          text NOT NULL,
  event_type        text NOT NULL,
  agent_id          bigint NOT NULL CHECK (agent_id >= 0),
  "timestamp"       bigint NOT NULL CHECK ("timestamp" >= 0),  -- block time, unix seconds
  -- The partition key: "timestamp" as timestamptz. Supplied by the writer (to_timestamp($ts)):
  -- PostgreSQL routes a row before any trigger runs and cannot partition on a generated column,
  -- so it cannot be derived; the CHECK keeps the two equal.
  block_time        timestamptz NOT NULL,
  -- Per-type fields (20-pipeline.md); NULL where the event type has no such field.
  owner             text CHECK (owner ~ '^0x[0-9a-f]{40}$'),
  token_uri         text CHECK (char_length(token_uri) <= 2048),
  metadata_key      text CHECK (char_length(metadata_key) BETWEEN 1 AND 255),
  metadata_value    text CHECK (char_length(metadata_value) <= 10000),
  client_address    text CHECK (client_address ~ '^0x[0-9a-f]{40}$'),
  feedback_index    bigint CHECK (feedback_index >= 0),
  score             smallint CHECK (score BETWEEN 0 AND 100),
  tag1              text CHECK (char_length(tag1) BETWEEN 1 AND 255),
  tag2              text CHECK (char_length(tag2) BETWEEN 1 AND 255),
  file_uri          text CHECK (char_length(file_uri) <= 2048),
  file_hash         text CHECK (file_hash ~ '^0x[0-9a-f]{64}$'),
  validator_address text CHECK (validator_address ~ '^0x[0-9a-f]{40}$'),
  request_uri       text CHECK (char_length(request_uri) <= 2048),
  request_hash      text CHECK (request_hash ~ '^0x[0-9a-f]{64}$'),
  response          smallint CHECK (response BETWEEN 0 AND 100),
  response_uri      text CHECK (char_length(response_uri) <= 2048),
  response_hash     text CHECK (response_hash ~ '^0x[0-9a-f]{64}$'),
  tag               text CHECK (char_length(tag) BETWEEN 1 AND 255),
  ingested_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, block_time),
  CONSTRAINT events_block_time_matches_timestamp CHECK (block_time = to_timestamp("timestamp")),
  CONSTRAINT events_id_is_canonical CHECK (
    id = registry || '-' || chain_id || '-' || transaction_hash || '-' || log_index),
  CONSTRAINT events_event_type_of_registry CHECK (
    (registry = 'identity'
       AND event_type IN ('Registered', 'MetadataSet', 'URIUpdated', 'Transfer'))
    OR (registry = 'reputation'
       AND event_type IN ('NewFeedback', 'FeedbackRevoked', 'ResponseAppended'))
    OR (registry = 'validation'
       AND event_type IN ('ValidationRequest', 'ValidationResponse')))
) PARTITION BY RANGE (block_time);

-- Catches events outside every monthly partition, so an insert never fails for lack of one.
-- auri_ensure_event_partitions moves such stragglers into their month when it creates it.
CREATE TABLE events_default PARTITION OF events DEFAULT;

-- For the query API (filters + newest first) and the processor.
CREATE INDEX events_block_time_idx ON events (block_time DESC);
CREATE INDEX events_chain_idx ON events (chain_id, block_time DESC);
CREATE INDEX events_registry_type_idx ON events (registry, event_type, block_time DESC);
CREATE INDEX events_agent_idx ON events (agent_id, block_time DESC);

-- The exactly-once work queue. One row per committed, not yet evaluated event. A processor claims
-- rows with SELECT ... ORDER BY seq FOR UPDATE SKIP LOCKED and deletes them in the same
-- transaction that writes trigger state, circuit-breaker updates, action jobs and its checkpoint;
-- if it dies, the transaction aborts and the rows become claimable again. seq is ingestion order.
CREATE TABLE event_queue (
  event_id    text PRIMARY KEY REFERENCES event_ids (id) ON DELETE CASCADE,
  block_time  timestamptz NOT NULL,
  seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  enqueued_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION auri_claim_event_id() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_ids (id, block_time) VALUES (NEW.id, NEW.block_time)
    ON CONFLICT (id) DO NOTHING;
  IF NOT FOUND THEN
    RETURN NULL;  -- duplicate: skip the row
  END IF;
  INSERT INTO event_queue (event_id, block_time) VALUES (NEW.id, NEW.block_time);
  RETURN NEW;
END
$$;
CREATE TRIGGER events_claim_id BEFORE INSERT ON events
  FOR EACH ROW EXECUTE FUNCTION auri_claim_event_id();

-- Events are facts: their id and block time never change. Besides, PostgreSQL runs an UPDATE
-- that moves a row to another partition as DELETE + INSERT, firing the BEFORE INSERT trigger above,
-- which would find the id taken and silently drop the row.
CREATE FUNCTION auri_forbid_event_key_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the id and block time of event % cannot change', OLD.id
    USING ERRCODE = 'check_violation';
END
$$;
CREATE TRIGGER events_keep_key BEFORE UPDATE ON events
  FOR EACH ROW
  WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.block_time IS DISTINCT FROM NEW.block_time)
  EXECUTE FUNCTION auri_forbid_event_key_change();

-- The original's channel and payload (20-pipeline.md). A wake-up only: processors poll too.
CREATE FUNCTION auri_notify_new_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('new_event',
                    json_build_object('event_id', NEW.id, 'chain_id', NEW.chain_id,
                                      'block_number', NEW.block_number,
                                      'event_type', NEW.event_type,
                                      'registry', NEW.registry)::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER events_notify_new_event AFTER INSERT ON events
  FOR EACH ROW EXECUTE FUNCTION auri_notify_new_event();

-- Creates the monthly partitions events_YYYY_MM (UTC months) for `months` months starting with
-- the month containing `from_time`; existing ones are left alone, so it is safe to call at every
-- start and from a periodic task. Events of a new month that already landed in events_default are
-- moved into the new partition. Returns how many partitions it created.
CREATE FUNCTION auri_ensure_event_partitions(from_time timestamptz, months integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  first_month timestamp := date_trunc('month', from_time AT TIME ZONE 'UTC');
  lo timestamptz;
  hi timestamptz;
  part text;
  created integer := 0;
BEGIN
  IF months < 0 OR months > 1200 THEN
    RAISE EXCEPTION 'months must be between 0 and 1200, got %', months;
  END IF;
  -- Serialise concurrent callers (several processors run this task): the second waits and then
  -- finds the partitions present.
  PERFORM pg_advisory_xact_lock(hashtext('auri_ensure_event_partitions'));
  FOR i IN 0 .. months - 1 LOOP
    lo := (first_month + make_interval(months => i)) AT TIME ZONE 'UTC';
    hi := (first_month + make_interval(months => i + 1)) AT TIME ZONE 'UTC';
    part := 'events_' || to_char(lo AT TIME ZONE 'UTC', 'YYYY_MM');
    CONTINUE WHEN to_regclass(format('%I', part)) IS NOT NULL;
    -- Attaching a range fails while the default partition holds rows of it, so build the
    -- partition as a plain table, move those rows in, then attach. The exclusive lock on the
    -- default partition keeps new stragglers out until the attach is done.
    LOCK TABLE events_default IN ACCESS EXCLUSIVE MODE;
    EXECUTE format('CREATE TABLE %I (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                   part);
    EXECUTE format('WITH moved AS (DELETE FROM events_default WHERE block_time >= %L AND '
                   'block_time < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
                   lo, hi, part);
    EXECUTE format('ALTER TABLE events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                   part, lo, hi);
    created := created + 1;
  END LOOP;
  RETURN created;
END
$$;

-- Retention: drops every monthly partition that ends at or before the start of the month
-- containing `before` (whole months only), deletes older stragglers from events_default and the
-- ids of every deleted event (which also removes them from event_queue). Returns how many
-- partitions it dropped.
CREATE FUNCTION auri_drop_event_partitions(before timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  cutoff timestamptz := date_trunc('month', before AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  part record;
  dropped integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('auri_ensure_event_partitions'));
  FOR part IN
    SELECT c.relname
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_[0-9]{4}_[0-9]{2}$'
  LOOP
    IF (to_date(substr(part.relname, 8), 'YYYY_MM') + interval '1 month')
         AT TIME ZONE 'UTC' <= cutoff THEN
      EXECUTE format('DROP TABLE %I', part.relname);
      dropped := dropped + 1;
    END IF;
  END LOOP;
  DELETE FROM events_default WHERE block_time < cutoff;
  DELETE FROM event_ids WHERE block_time < cutoff;
  RETURN dropped;
END
$$;

-- The current month and a few either side, so a fresh database routes today's events (and a
-- moderate backfill) to monthly partitions from the start. The event-processor keeps creating
-- months ahead.
SELECT auri_ensure_event_partitions(now() - interval '3 months', 7);

-- Progress of each event-processor instance, written in the same transaction as the queue rows it
-- deletes. One row per instance (never a shared row, which would serialise all processors).
-- The DR integrity check compares last_block_time with the newest event.
CREATE TABLE event_processor_checkpoints (
  processor_id     text PRIMARY KEY,           -- instance name, e.g. host:pid
  last_event_id    text,
  last_block_time  timestamptz,
  events_processed bigint NOT NULL DEFAULT 0 CHECK (events_processed >= 0),
  started_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------------------------------------
-- Action delivery: the outbox and its results
-- ---------------------------------------------------------------------------------------------

CREATE TABLE action_jobs (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),  -- also the Idempotency-Key
  trigger_id       uuid NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
  action_id        uuid REFERENCES trigger_actions (id) ON DELETE SET NULL,
  event_id         text NOT NULL,
  action_type      text NOT NULL CHECK (action_type IN ('telegram', 'webhook', 'rest')),
  priority         integer NOT NULL DEFAULT 0,
  config           jsonb NOT NULL CHECK (jsonb_typeof(config) = 'object'),  -- snapshot
  event_data       jsonb NOT NULL CHECK (jsonb_typeof(event_data) = 'object'),  -- snapshot
  status           text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'running', 'succeeded', 'dead')),
  attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts     integer NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  lease_owner      text,
  lease_expires_at timestamptz,
  last_error       text,
  last_status_code integer,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  -- A running job is always leased, so a dead worker's job can be found by its expired lease.
  CONSTRAINT action_jobs_running_is_leased
    CHECK (status <> 'running' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
  -- One job per (event, action): evaluating an event twice cannot deliver twice.
  CONSTRAINT action_jobs_one_per_event_action UNIQUE (event_id, action_id)
);
-- Claiming: due pending jobs by priority, then age. next_attempt_at is a key column so the
-- "<= now()" test is done in the index, without visiting jobs that are waiting for a retry.
CREATE INDEX action_jobs_claim_idx
  ON action_jobs (priority, created_at, next_attempt_at) WHERE status = 'pending';
-- Reclaiming jobs of workers that died.
CREATE INDEX action_jobs_lease_idx ON action_jobs (lease_expires_at) WHERE status = 'running';
-- Per-trigger listing (dead letters, replay --all-for-trigger) and the trigger FK's cascade.
CREATE INDEX action_jobs_trigger_idx ON action_jobs (trigger_id, created_at DESC);
CREATE INDEX action_jobs_action_idx ON action_jobs (action_id);
-- Retention purge; BRIN because rows arrive in created_at order and it costs almost nothing.
CREATE INDEX action_jobs_created_brin ON action_jobs USING brin (created_at);
CREATE TRIGGER action_jobs_set_updated_at BEFORE UPDATE ON action_jobs
  FOR EACH ROW EXECUTE FUNCTION auri_set_updated_at();

-- Wakes action-workers. One notification per inserting statement is enough (they claim in
-- batches), and a replayed dead letter wakes them too. Empty payload: a wake-up only.
CREATE FUNCTION auri_notify_action_job() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('action_job', '');
  RETURN NULL;
END
$$;
CREATE TRIGGER action_jobs_notify_insert AFTER INSERT ON action_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION auri_notify_action_job();
CREATE TRIGGER action_jobs_notify_replay AFTER UPDATE ON action_jobs
  FOR EACH ROW WHEN (OLD.status = 'dead' AND NEW.status = 'pending')
  EXECUTE FUNCTION auri_notify_action_job();

-- One row per finished job (a replayed job finishes again and adds another).
CREATE TABLE action_results (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  job_id           uuid NOT NULL REFERENCES action_jobs (id) ON DELETE CASCADE,
  trigger_id       uuid NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
  event_id         text NOT NULL,
  action_type      text NOT NULL CHECK (action_type IN ('telegram', 'webhook', 'rest')),
  status           text NOT NULL CHECK (status IN ('success', 'failed')),
  attempts         integer NOT NULL CHECK (attempts >= 0),
  duration_ms      bigint NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
  status_code      integer,
  error            text,
  response_excerpt text,  -- first KiB of the response body
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX action_results_trigger_idx ON action_results (trigger_id, created_at DESC);
CREATE INDEX action_results_job_idx ON action_results (job_id);
CREATE INDEX action_results_created_brin ON action_results USING brin (created_at);
