-- The write side of every service: an append-only event store and its transactional outbox.

create table events (
    position       bigint generated always as identity primary key,
    stream_id      text        not null,
    version        integer     not null check (version >= 1),
    event_id       uuid        not null unique,
    event_type     text        not null,
    schema_version integer     not null,
    data           jsonb       not null,
    correlation_id text        not null,
    causation_id   text,
    actor          text,
    occurred_at    timestamptz not null,
    recorded_at    timestamptz not null default clock_timestamp(),
    -- Tamper evidence: each event's hash covers its content and the previous event's hash
    -- in the same stream; `appointments audit verify` recomputes the chain.
    prev_hash      bytea,
    hash           bytea       not null,
    -- Two writers racing on one stream: the second insert of the same version fails.
    unique (stream_id, version)
);

-- History is never altered: updates and deletes of stored events are refused outright.
create function events_are_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'events are append-only (% refused)', tg_op;
end $$;
create trigger events_append_only before update or delete on events
    for each row execute function events_are_append_only();

-- Rows are published by the relay in id order and marked, never skipped by a high-water
-- mark: a row whose transaction commits late is simply still unpublished next time.
create table outbox (
    id           bigint generated always as identity primary key,
    event_id     uuid        not null references events (event_id),
    topic        text        not null,
    key          text        not null,
    created_at   timestamptz not null default clock_timestamp(),
    published_at timestamptz
);
create index outbox_unpublished on outbox (id) where published_at is null;

-- What each consumer has applied, written in the same transaction as its change.
create table consumer_offsets (
    consumer    text    not null,
    topic       text    not null,
    partition   integer not null,
    next_offset bigint  not null,
    primary key (consumer, topic, partition)
);
create table applied_events (
    consumer text not null,
    event_id uuid not null,
    primary key (consumer, event_id)
);
