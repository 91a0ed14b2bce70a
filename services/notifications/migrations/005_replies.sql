-- Replies from the public, for a person to read beside the appointment's texts: the words stay
-- sealed under the caller's key (erasing the caller erases them), opened only when asked for.
create table replies (
    reply_id uuid primary key,
    appointment_id text not null,
    intent text not null,
    received_at timestamptz not null,
    body jsonb not null
);
create index replies_by_appointment on replies (appointment_id, received_at);
