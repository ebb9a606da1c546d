-- A charge whose reply was lost (status 'unknown') is asked about again with
-- the same idempotency key on a backoff in business time (5 minutes, 1 hour,
-- 6 hours, then daily), not on every pass of every tick: one tick then does
-- everything due at its instant, and a second tick at the same instant finds
-- nothing to do. Null: ask at once (attempts recorded before this column).
alter table payment_attempts add column check_after timestamptz;
