/* nested /* comment */ still ;
-- é
SELECT 'it''s';BEGIN; COMMIT;