-- The waitlist reacts to what changed instead of rescanning every waitlist: each entry keeps
-- the days that would suit it (so a freed day finds whether anyone waits for it, and a sweep
-- finds the callers whose days are over), and every offer standing has a row here until it
-- is taken, declined or lapses (so the lapse timer sleeps until the next deadline). Both are
-- written in the same transaction as the events they follow.
alter table waitlist_entries add column from_day date, add column to_day date;

update waitlist_entries w
set from_day = (e.data ->> 'from_day')::date, to_day = (e.data ->> 'to_day')::date
from events e
where e.event_type = 'WaitlistJoined' and e.stream_id = w.waitlist
  and e.data ->> 'appointment_id' = w.appointment_id;

create index waitlist_entries_over on waitlist_entries (to_day) where left_at is null;

-- One row per caller: a caller holds at most one offer, so a second offer to the same
-- caller (two reactions racing) fails its unit, which is decided again.
create table offer_deadlines (
    appointment_id text primary key,
    diary          text        not null,
    expires_at     timestamptz not null
);
create index offer_deadlines_due on offer_deadlines (expires_at);

-- The offers standing when this migration runs: offered, and nothing since on that day
-- (a reassignment keeps the offer; a booking, a cancellation or a lapse ends it).
insert into offer_deadlines (appointment_id, diary, expires_at)
select distinct on (o.data ->> 'appointment_id')
       o.data ->> 'appointment_id', o.stream_id, (o.data ->> 'expires_at')::timestamptz
from events o
where o.event_type = 'AppointmentOffered'
  and not exists (
      select 1 from events e
      where e.stream_id = o.stream_id and e.version > o.version
        and e.data ->> 'appointment_id' = o.data ->> 'appointment_id'
        and e.event_type <> 'AppointmentReassigned'
  )
order by o.data ->> 'appointment_id', o.position desc;
