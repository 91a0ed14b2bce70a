-- What the notifications service knows of each appointment (folded from booking.events), the
-- texts waiting for their time, and the reminders ahead. No phone number is ever kept in clear:
-- the appointment keeps booking's sealed copy, and replies are matched by a keyed hash.
create table appointments (
    appointment_id text primary key,
    state jsonb not null,
    number_hash text,
    starts_at timestamptz,
    status text not null,
    call_back boolean not null default false,
    updated_at timestamptz not null default now()
);
create index appointments_by_number on appointments (number_hash, starts_at) where number_hash is not null;

create table texts_due (
    message_id uuid primary key,
    appointment_id text,
    subject_id text not null,
    phone jsonb not null,
    template text not null,
    template_id text not null,
    personalisation jsonb not null,
    reference text not null,
    send_at timestamptz not null,
    correlation_id text not null,
    queued_at timestamptz not null,
    attempt integer not null default 0,
    sent_at timestamptz,
    outcome text
);
create index texts_due_pending on texts_due (send_at) where sent_at is null;
create index texts_due_by_appointment on texts_due (appointment_id);

create table reminders (
    appointment_id text not null,
    kind text not null,
    moves integer not null,
    due_at timestamptz not null,
    primary key (appointment_id, kind, moves)
);
create index reminders_due on reminders (due_at);
