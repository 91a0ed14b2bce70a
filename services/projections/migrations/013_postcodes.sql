-- Which district's diary car covers a caller's postcode (services/projections/adapters/postcodes.py):
-- the ONS Postcode Directory's postcodes of the county's districts, loaded by an operator with
-- `appointments postcodes load` (cli/postcodes.py). Published reference data, not built from the
-- topics: no consumer writes here and a replay leaves it be (it is no read model's table). A load
-- replaces every row in one transaction, so a lookup reads one release or the one before.
create table postcodes (
    postcode    text primary key,  -- as the ONSPD's pcds: upper case, one space before the inward code
    district_id text not null,     -- the county's district (seed/ id), matched from the LAD's name
    lad_code    text not null,     -- the ONSPD's oslaua: the local authority district's GSS code
    terminated  date               -- null: live; else the month the ONSPD's doterm gives
);

-- The release a lookup answers from: one row once a directory has been loaded (none: 503).
create table postcode_directory (
    only_one     boolean primary key default true check (only_one),
    source       text        not null,  -- the ONSPD file's name, as the operator gave it
    names_source text        not null,  -- the LAD names and codes file's name
    loaded_at    timestamptz not null,
    live         integer     not null,
    terminated   integer     not null,
    districts    jsonb       not null   -- district id -> the LAD code its name matched
);
