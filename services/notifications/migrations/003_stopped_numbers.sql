-- Numbers that replied STOP, by their keyed hash: no further text goes to them.
create table stopped_numbers (
    number_hash text primary key,
    stopped_at timestamptz not null
);
