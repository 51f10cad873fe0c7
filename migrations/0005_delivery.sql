-- 0005_delivery: autovacuum settings for the action-workers' outbox.
--
-- Every job row is updated twice (claimed: pending → running; finished: running → succeeded or
-- dead), and neither update can be HOT (status is in the predicates of the claim and lease
-- indexes), so each leaves dead entries in both partial indexes. With the default thresholds
-- (20 % of a table that keeps 30 days of jobs) they pile up during a burst: the claim walks them
-- from the head of action_jobs_claim_idx, and bitmap scans of action_jobs_lease_idx (which do
-- not mark entries dead) grow with every job ever leased. Vacuum after a fixed number of changes,
-- without cost-based delay, as 0004 does for event_queue.
ALTER TABLE action_jobs SET (
  autovacuum_vacuum_scale_factor = 0,
  autovacuum_vacuum_threshold = 20000,
  autovacuum_vacuum_cost_delay = 0,
  autovacuum_analyze_scale_factor = 0,
  autovacuum_analyze_threshold = 20000
);
