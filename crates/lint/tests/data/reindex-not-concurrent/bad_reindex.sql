REINDEX INDEX contacts_email_idx;
-- expect: reindex-not-concurrent
