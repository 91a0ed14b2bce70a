-- Booking's own reading of roster.events: who is on appointment or diary-car duty where and
-- when, and who is withdrawn. Written by booking's roster consumer in the same transaction
-- as the offsets it applied (and any reassignments the change causes).
create table duties (
    duty_id     text primary key,
    officer_id  text        not null,
    duty        text        not null,
    station_id  text,
    district_id text        not null,
    starts_at   timestamptz not null,
    ends_at     timestamptz not null
);
create index duties_by_place on duties (duty, station_id, district_id, starts_at);

create table withdrawals (
    withdrawal_id text primary key,
    officer_id    text        not null,
    starts_at     timestamptz not null,
    ends_at       timestamptz not null,
    reason        text        not null
);
create index withdrawals_by_officer on withdrawals (officer_id, starts_at);
