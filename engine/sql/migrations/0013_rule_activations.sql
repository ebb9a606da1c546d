-- When each rule was first loaded, as a position in the journal: a rule does
-- not enroll on events at or before it (HubSpot asks before enrolling existing
-- records; `engine --rules DIR --enroll-existing` asks for it, with 0).
create table rule_activations (
  rule_id      text primary key,
  enroll_after bigint not null default 0,
  activated_at timestamptz not null default now()
);
