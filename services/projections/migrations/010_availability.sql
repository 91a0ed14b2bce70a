-- Availability (services/projections/domain/availability.py): what booking decides free slots
-- from, as the topics say it. The county's latest version (booking's CountyReferenceLoaded), the
-- roster's capacity duties (appointments and diary car; an early end shortens one) and its
-- withdrawals; what is booked is the diary's. Free capacity is worked out when asked.
create table availability_county (
    county_id     text primary key,
    sha256        text        not null,
    loaded_at     timestamptz not null,
    document      jsonb       not null,
    last_event_id uuid        not null
);
create table availability_duties (
    duty_id     text primary key,
    officer_id  text        not null,
    duty        text        not null,
    station_id  text,
    district_id text        not null,
    starts_at   timestamptz not null,
    ends_at     timestamptz not null
);
create index availability_duties_by_time on availability_duties (starts_at, ends_at);
create table availability_withdrawals (
    withdrawal_id text primary key,
    officer_id    text        not null,
    starts_at     timestamptz not null,
    ends_at       timestamptz not null
);
-- What the projections recorded before these tables existed: folded once from the recorded
-- history by the service at start (the model's own applies), which deletes this row.
create table availability_backfill (pending boolean primary key);
insert into availability_backfill select true where exists (select 1 from event_history);
