-- The access log's listing of every reply read in clear (services/projections/adapters/access_log.py,
-- every_replies_read: no subject named, perhaps no period): the RepliesRead events in time order,
-- found without reading the whole history. Partial: no other event pays for it.
create index event_history_replies_read on event_history (occurred_at, event_id)
where event_type = 'RepliesRead';
