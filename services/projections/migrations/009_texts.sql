-- An appointment's texts and their delivery state (services/projections/domain/texts.py), from
-- notifications.events: template, recipient, status and times; no number, no words.
create table texts (
    message_id         text primary key,
    appointment_id     text        not null,
    template           text        not null,
    recipient          text        not null,
    status             text        not null,
    send_at            timestamptz not null,
    queued_at          timestamptz not null,
    delivered_at       timestamptz,
    failed_at          timestamptz,
    failure            text,
    permanent          boolean     not null,
    technical_failures integer     not null,
    withdrawn_at       timestamptz,
    updated_at         timestamptz not null,
    last_event_id      uuid        not null
);
create index texts_by_appointment on texts (appointment_id);
-- The caller's replies about an appointment: what each was read as, and the score it gave.
create table text_replies (
    message_id     text primary key,
    appointment_id text        not null,
    intent         text        not null,
    received_at    timestamptz not null,
    score          smallint check (score between 1 and 5)
);
create index text_replies_by_appointment on text_replies (appointment_id);
-- Appointments a person must call the caller about (CallBackRequested): the first request.
create table call_backs (
    appointment_id text primary key,
    reason         text        not null,
    requested_at   timestamptz not null,
    message_id     text        not null
);
-- The texts of what the projections recorded before these tables existed: folded once from the
-- recorded history by the service at start (the model's own apply), which deletes this row.
create table texts_backfill (pending boolean primary key);
insert into texts_backfill select true where exists (select 1 from event_history);
