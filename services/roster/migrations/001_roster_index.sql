-- Beside the event store: where to find officers by collar number and duties by place.
-- Written in the same transaction as the events, so they never disagree with them.
create table officers (
    officer_id    text primary key,
    -- One collar number, one officer: a second registration of it fails the transaction.
    collar_number text not null unique,
    station_id    text not null,
    district_id   text not null
);

create extension if not exists btree_gist;
create table duties (
    officer_id  text      not null,
    duty_id     text      not null,
    duty        text      not null,
    station_id  text,
    district_id text      not null,
    -- As the duty now stands: cut short when it ends early (empty when called off).
    during      tstzrange not null,
    primary key (officer_id, duty_id),
    -- The backstop for the decider: even a bug cannot put one officer on two duties at once.
    exclude using gist (officer_id with =, during with &&)
);
create index duties_at_stations on duties using gist (station_id, during) where duty = 'appointments';
create index duties_on_diary_cars on duties using gist (district_id, during) where duty = 'diary-car';
