-- haste:allow drop-column reason="unused since release 42; contract phase"
ALTER TABLE contacts DROP COLUMN legacy_score;
