-- Where each appointment lives now: its diary-day stream. Written with its events.
create table appointment_locations (
    appointment_id text primary key,
    stream_id      text not null
);

-- The backstop for the decider: even a bug cannot hold one room twice at once.
create extension if not exists btree_gist;
create table room_holds (
    appointment_id text primary key,
    station_id     text      not null,
    room_id        text      not null,
    during         tstzrange not null,
    exclude using gist (station_id with =, room_id with =, during with &&)
);

-- Requests already decided (control-room request ids, HTTP idempotency keys): asked twice,
-- answered the same, booked once.
create table decided_requests (
    request_id     text primary key,
    appointment_id text,
    outcome        jsonb       not null,
    decided_at     timestamptz not null default now()
);
