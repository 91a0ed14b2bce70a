-- The operators' own database (the owner's alone; no service reads it).
-- Which dead letters `appointments deadletter reprocess` has sent back to their topics: a row
-- is claimed in the transaction that sends, so two operators at once send a record once, and
-- running it again sends nothing again. Ids and places only, never a value.
create table reprocessed_deadletters (
    deadletter_topic text        not null,
    partition        integer     not null,
    "offset"         bigint      not null,
    source_topic     text        not null,
    source_partition integer,
    source_offset    bigint,
    event_id         text,
    reprocessed_at   timestamptz not null default now(),
    reprocessed_by   text        not null,
    primary key (deadletter_topic, partition, "offset")
);
