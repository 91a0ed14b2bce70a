-- The waitlist (services/projections/domain/waitlist.py): one line per waitlist entry, who waits
-- for which station or diary car and days, since when, and the offer they hold; no caller, no
-- sealed words (the case reference and THRIVE risk in clear, as the diary keeps them).
create table waitlist_entries (
    appointment_id   text primary key,
    place            text        not null,
    place_id         text        not null,
    from_day         date        not null,
    to_day           date        not null,
    joined_at        timestamptz not null,
    case_reference   text        not null,
    thrive_risk      text        not null,
    state            text        not null,
    offer_starts_at  timestamptz,
    offer_ends_at    timestamptz,
    offer_room_id    text,
    offer_officer_id text,
    offered_at       timestamptz,
    offer_expires_at timestamptz,
    offers           integer     not null,
    lapsed           integer     not null,
    declined         integer     not null,
    left_at          timestamptz,
    updated_at       timestamptz not null,
    last_event_id    uuid        not null
);
-- A place's open entries in the order booking offers to them.
create index waitlist_entries_open on waitlist_entries (place, place_id, joined_at)
    where state in ('waiting', 'offered');
-- What the projections recorded before this table existed: folded once from the recorded history
-- by the service at start (the model's own applies), which deletes this row.
create table waitlist_backfill (pending boolean primary key);
insert into waitlist_backfill select true where exists (select 1 from event_history);
