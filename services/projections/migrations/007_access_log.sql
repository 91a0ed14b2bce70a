-- An officer's day: their appointments on a London day (the diary's officer column, read again).
create index if not exists diary_by_officer_day on diary (officer_id, local_day);
-- Which roster officer a token's subject is: the collar number of OfficerRegistered, by officer id.
-- Partial, as the county's index: no other event pays for it.
create index event_history_officers on event_history ((data ->> 'officer_id'))
where event_type = 'OfficerRegistered';
-- The access log (DPA 2018 s.62): whose data was collected, by the caller's subject id ...
create index event_history_callers on event_history ((data #>> '{caller,subject_id}'))
where event_type in ('AppointmentRequested', 'SlotBooked', 'DiaryCarVisitBooked', 'WaitlistJoined');
-- ... which texts reached the SMS gateway, by their message stream ...
create index event_history_text_outcomes on event_history (subject)
where event_type in ('SmsDelivered', 'SmsFailed');
-- ... and whose data was consulted: the access log's own events, chained in this database's store.
create index events_access_subjects on events using gin ((data -> 'subject_ids') jsonb_path_ops);
create index events_access_time on events (occurred_at);
