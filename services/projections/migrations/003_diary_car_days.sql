-- A diary car's day is named by its district, as booking's stream (diary-car:{district_id}:{day}),
-- the route /diaries/diary-cars/{district_id}/{day} and every place_id of the contract name it;
-- the diary car's own id has a column of its own. Booked visits were kept under the diary car's
-- id and held offers under the district's, so an offer never showed beside the visits.
alter table diary rename column diary to diary_stream;
alter table diary add column diary_car_id text;
update diary set diary_car_id = place_id, place_id = district_id
where place = 'diary-car' and district_id is not null;
update diary set district_id = place_id where place = 'diary-car' and district_id is null;

-- The diary cars' days are indexed again from the recorded history, with the same fold, by the
-- service at start (before any consumer applies).
delete from diary_days where place = 'diary-car';
insert into diary_days_backfill select true where exists (select 1 from event_history)
on conflict do nothing;
