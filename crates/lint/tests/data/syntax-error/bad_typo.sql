CREATE TABLE ok (id int);
CREATE TABEL broken (id int);
-- expect: syntax-error
