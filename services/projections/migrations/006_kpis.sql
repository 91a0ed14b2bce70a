-- The commissioner's figures (services/projections/domain/kpis.py): one line per appointment,
-- what became of it and when it was first booked for; no caller, no case, no words. The KPIs
-- are counted from these lines when asked, by district and week and against each go-live date.
create table kpi_appointments (
    appointment_id        text primary key,
    district_id           text        not null,
    place                 text        not null,
    local_day             date        not null,
    iso_week              text        not null,
    booked_at             timestamptz not null,
    booked_starts_at      timestamptz not null,
    starts_at             timestamptz not null,
    ends_at               timestamptz not null,
    reassigned            boolean     not null,
    rescheduled_by_police boolean     not null,
    rescheduled_by_public boolean     not null,
    time_changed          boolean     not null,
    outcome               text,
    held                  boolean     not null,
    updated_at            timestamptz not null,
    last_event_id         uuid        not null
);
create index kpi_appointments_by_day on kpi_appointments (local_day, district_id);
-- The public's satisfaction (notifications' SatisfactionRecorded), kept apart from the lines:
-- it comes on another topic, so it may be applied before the appointment's booking is.
create table kpi_scores (
    appointment_id text primary key,
    score          smallint    not null check (score between 1 and 5),
    recorded_at    timestamptz not null
);
-- Each district's name and go-live date, as the county's latest version has them (booking's
-- CountyReferenceLoaded); a district a later version leaves out keeps its last.
create table kpi_districts (
    district_id text primary key,
    name        text        not null,
    goes_live   date        not null,
    loaded_at   timestamptz not null
);
