-- Events replayed by `import history` get their own source, `history`: they
-- record what happened in another system, possibly long ago, and the rules
-- runtime must not start workflows (send emails, change subscriptions) for them.
alter table events drop constraint events_source_check;
alter table events add constraint events_source_check check (source in ('cli', 'engine', 'import', 'history', 'rule'));
