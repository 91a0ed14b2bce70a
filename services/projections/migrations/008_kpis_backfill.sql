-- The KPIs of what the projections recorded before their tables existed: folded once from the
-- recorded history by the service at start (the KPI model's own applies, before any consumer
-- applies), which deletes this row. The history holds every event the booking and notifications
-- consumers have applied, so the fold stands exactly where their positions do.
create table kpi_backfill (pending boolean primary key);
insert into kpi_backfill select true where exists (select 1 from event_history);
