-- Every waitlist entry and the waitlist stream it is on, written with its WaitlistJoined and
-- WaitlistLeft events. The offer process reads only the waitlists with someone still waiting,
-- and an entry id (the appointment id it books under) finds its waitlist, without scanning the
-- event store.
create table waitlist_entries (
    appointment_id text primary key,
    waitlist       text        not null,
    joined_at      timestamptz not null,
    left_at        timestamptz,
    booked         boolean
);
create index waitlist_entries_waiting on waitlist_entries (waitlist) where left_at is null;
