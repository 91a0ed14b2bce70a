-- One AES-256 key per data subject. Erasing a subject deletes its key and keeps a
-- tombstone, so every sealed copy of its data (events, Kafka, replays) is unreadable.
create table subject_keys (
    subject_id text primary key,
    key        bytea,
    created_at timestamptz not null default now(),
    erased_at  timestamptz,
    erased_by  text,
    check ((key is null) = (erased_at is not null))
);
