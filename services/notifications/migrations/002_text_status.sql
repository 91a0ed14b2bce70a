-- What became of each text at the gateway, for the messages of an appointment.
alter table texts_due add column status text not null default 'queued';
