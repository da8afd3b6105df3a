-- From sirimbo's schema.sql: a comment on a function whose signature, as `regprocedure` prints
-- it, is longer than 63 bytes. The dump cut it at 63 (the catalog's `name` length) and wrote
-- `COMMENT ON ROUTINE create_missing_cohort_subscription_payments(cohort_subscription IS ...`,
-- which does not parse.
CREATE TABLE public.cohort_subscription (id bigint PRIMARY KEY, cohort_id bigint NOT NULL);

CREATE TABLE public.payment (id bigint PRIMARY KEY, cohort_subscription_id bigint);

CREATE FUNCTION public.create_missing_cohort_subscription_payments(c public.cohort_subscription) RETURNS SETOF public.payment
    LANGUAGE sql
    AS $$ SELECT * FROM public.payment WHERE cohort_subscription_id = c.id $$;

COMMENT ON FUNCTION public.create_missing_cohort_subscription_payments(c public.cohort_subscription) IS '@omit';

REVOKE ALL ON FUNCTION public.create_missing_cohort_subscription_payments(c public.cohort_subscription) FROM PUBLIC;
