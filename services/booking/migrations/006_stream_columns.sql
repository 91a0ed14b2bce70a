-- Honest names: a column that holds an event-store stream id says so.
alter table waitlist_entries rename column waitlist to waitlist_stream;
alter table offer_deadlines rename column diary to diary_stream;
