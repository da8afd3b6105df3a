-- haste:after 9_nowhere
SELECT 1;
