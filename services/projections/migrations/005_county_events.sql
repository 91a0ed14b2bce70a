-- Which stations and districts exist is read from booking's CountyReferenceLoaded events in the
-- history (an unknown one answers 404, as booking and the roster answer). A partial index keeps
-- that read to the few county events; no other event pays more than the predicate's check.
create index event_history_county on event_history (occurred_at)
where event_type = 'CountyReferenceLoaded';
