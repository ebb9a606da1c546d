-- The business day an enrollment began (`enrollments list`, `rules explain`). It was read from its trigger event,
-- else from the row's wall-clock `created_at`: a date trigger has no event, so under a test clock or in `simulate`
-- an enrollment said it began on the machine's day, not the store's. The engine now records the day it enrolls on.
-- Enrollments made before keep what they showed: their event's day, else the day their row was written.
alter table enrollments add column enrolled_on date;
update enrollments e set enrolled_on = coalesce((select ev.occurred_on from events ev where ev.id = e.trigger_event_id), e.created_at::date);
