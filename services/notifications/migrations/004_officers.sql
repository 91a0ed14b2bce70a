-- Officers on appointment duty are texted their day and its changes: their work mobile (set by a
-- supervisor; the roster keeps no number), and each duty whose morning text is still to go.
create table officer_mobiles (
    officer_id text primary key,
    mobile text not null,
    set_at timestamptz not null
);
create table officer_days (
    duty_id text primary key,
    officer_id text not null,
    place text not null,
    starts_at timestamptz not null,
    ends_at timestamptz not null,
    due_at timestamptz not null,
    sent_at timestamptz
);
create index officer_days_due on officer_days (due_at) where sent_at is null;
-- A text to an officer has no sealed number: it goes to the officer's mobile above.
alter table texts_due alter column phone drop not null;
alter table texts_due alter column subject_id drop not null;
alter table texts_due add column officer_id text;
