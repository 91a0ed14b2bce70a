-- The staff directory beside the event store: the name each sign-in subject goes by (the
-- latest StaffMemberNamed of its stream), written in the same transaction as the event.
create table staff (
    subject text primary key,
    name    text not null,
    role    text not null
);
