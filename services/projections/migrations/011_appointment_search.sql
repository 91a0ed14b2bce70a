-- Finding appointments by case reference (services/projections/adapters/finder.py): the briefing's
-- reference as booking took it, upper-cased, on the events that collect a caller's details. Partial,
-- as the callers' subject ids are (007): no other event pays for it. The phone is found through
-- the same callers' index (007, event_history_callers): its keyed hash, never the number.
create index event_history_case_references on event_history (upper(data #>> '{briefing,case_reference}'))
where event_type in ('AppointmentRequested', 'SlotBooked', 'DiaryCarVisitBooked', 'WaitlistJoined');
