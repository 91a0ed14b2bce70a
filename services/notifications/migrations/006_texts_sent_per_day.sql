-- Texts Notify took, per UTC day: the daily allowance counts them, and a restart must not forget.
create table texts_sent_per_day (
    day date primary key,
    sent integer not null
);
