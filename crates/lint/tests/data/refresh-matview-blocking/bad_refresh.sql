REFRESH MATERIALIZED VIEW deal_totals;
-- expect: refresh-matview-blocking
