-- The backstop for officers, like room_holds for rooms: even a bug cannot book one officer
-- into two appointments that overlap, at a station or on a diary car.
create table officer_holds (
    appointment_id text primary key,
    officer_id     text      not null,
    during         tstzrange not null,
    exclude using gist (officer_id with =, during with &&)
);
