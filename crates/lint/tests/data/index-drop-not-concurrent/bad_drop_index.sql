DROP INDEX contacts_email_idx;
-- expect: index-drop-not-concurrent
