VACUUM FULL contacts;
-- expect: vacuum-full-cluster
CLUSTER contacts USING contacts_pkey;
-- expect: vacuum-full-cluster
