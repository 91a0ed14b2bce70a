-- The roster's own copy of the county's reference data: the version booking recorded last
-- (CountyReferenceLoaded on booking.events). Written in the consumer's transaction, with
-- its offset, so a version is taken exactly once; the newest loaded_at wins.
create table county_reference (
    county_id text        primary key,
    sha256    text        not null,
    document  jsonb       not null,
    loaded_at timestamptz not null,
    event_id  uuid        not null
);
