-- Use of capacity (services/projections/domain/kpis.py): each district's rooms, hours and diary car,
-- as the latest county version naming it has them (the district and its stations, a county of
-- their own), which the places offered are counted from with the roster's duties (the
-- availability model's tables); null when that version does not make a county booking could read.
alter table kpi_districts add column places jsonb;
-- The appointments by the time they are at now, for the places used on a range's days.
create index kpi_appointments_by_time on kpi_appointments (starts_at);
-- Fill the new column for what was recorded before it: the KPI tables are folded again from the
-- recorded history at start (services/projections/adapters/kpis.py fold_recorded_history).
insert into kpi_backfill select true where exists (select 1 from event_history) on conflict do nothing;
