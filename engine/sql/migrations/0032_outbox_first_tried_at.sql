-- A webhook's retry window (`webhook-retry-window`, 3 days by default) is counted on business time from its
-- first try: the claim of the first try records that instant here (the engine's clock: `--now`, a simulated
-- day), and no try is made after first_tried_at + the window. The window was counted in tries at their
-- backoff (20 for 3 days), so an engine run once a day (cron `engine --once`, the simulator) retried a
-- failing endpoint for 20 days. Null until the first try, and again after `outbox retry`. A message tried
-- before this migration gets its first_tried_at at its next try (a window from then).
alter table outbox add column first_tried_at timestamptz;
