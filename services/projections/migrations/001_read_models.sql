-- Every event of every topic, as received: the source of histories and point-in-time diaries.
create table event_history (
    event_id       uuid primary key,
    topic          text        not null,
    partition      integer     not null,
    "offset"       bigint      not null,
    event_type     text        not null,
    schema_version integer     not null,
    source         text        not null,
    subject        text        not null,
    appointment_id text,
    actor          text,
    correlation_id text        not null,
    causation_id   text,
    occurred_at    timestamptz not null,
    received_at    timestamptz not null default now(),
    data           jsonb       not null
);
create index event_history_by_appointment on event_history (appointment_id, occurred_at);
create index event_history_by_time on event_history (occurred_at);

-- The diary as it stands: one row per appointment, where and when it now is.
create table diary (
    appointment_id text primary key,
    place          text        not null,
    place_id       text        not null,
    district_id    text,
    diary          text        not null,
    local_day      date        not null,
    starts_at      timestamptz not null,
    ends_at        timestamptz not null,
    room_id        text,
    officer_id     text,
    status         text        not null,
    case_reference text,
    thrive_risk    text,
    initiated_by   text,
    booked_at      timestamptz not null,
    updated_at     timestamptz not null,
    last_event_id  uuid        not null
);
create index diary_by_place_day on diary (place, place_id, local_day, starts_at);
create index diary_by_officer on diary (officer_id, local_day);
