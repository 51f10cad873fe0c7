-- 0004_processor: autovacuum settings for the event-processor's work queue.
--
-- event_queue is a queue: every row is inserted once and deleted within seconds. With the default
-- thresholds (20 % of the table) autovacuum lets hundreds of thousands of dead index entries pile
-- up during a backlog, and every claim (ORDER BY seq ... SKIP LOCKED) walks them: measured 200 ms
-- per claim with 300,000. Vacuum it after a fixed number of deletions, without cost-based delay
-- (the table is small). The processor also avoids the walk while draining a backlog (it claims
-- after its last batch); this keeps the idle/full scans cheap.
ALTER TABLE event_queue SET (
  autovacuum_vacuum_scale_factor = 0,
  autovacuum_vacuum_threshold = 10000,
  autovacuum_vacuum_cost_delay = 0,
  autovacuum_analyze_scale_factor = 0,
  autovacuum_analyze_threshold = 10000
);
