-- The business day an enrollment last changed (`enrollments list --json` updatedOn). It was read from the row's
-- wall-clock `updated_at`: under --now, a test clock or `simulate`, an enrollment said it changed on the machine's
-- day, not the store's. The engine now records the day (its clock) each time it enrolls or steps one.
-- Enrollments made before keep what they showed: the day their row was last written.
alter table enrollments add column updated_on date;
update enrollments set updated_on = updated_at::date;
