-- Which diary days each appointment has ever been on, and since when (the earliest event
-- that put it there). The diary as it stood at an instant folds only the events of the
-- appointments found here for that day, not every booking event of the county.
create table diary_days (
    place          text        not null,
    place_id       text        not null,
    local_day      date        not null,
    appointment_id text        not null,
    since          timestamptz not null,
    primary key (place, place_id, local_day, appointment_id)
);

-- Events recorded before this table existed are indexed once, by the service at start
-- (with the same fold as the diary, before any consumer applies); it deletes this row.
create table diary_days_backfill (pending boolean primary key);
insert into diary_days_backfill select true where exists (select 1 from event_history);
