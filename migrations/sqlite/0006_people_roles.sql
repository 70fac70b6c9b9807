-- A person may hold several roles (a dispatcher who also goes out as a
-- master): one row per person and role. Nothing refers to this table, so
-- it is rebuilt in place with the new key.
CREATE TABLE people_roles (
    user_id    INTEGER NOT NULL,
    role       TEXT    NOT NULL CHECK (role IN ('master', 'dispatcher', 'admin')),
    name       TEXT    NOT NULL,
    added_by   INTEGER,
    added_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, role)
);
INSERT INTO people_roles (user_id, role, name, added_by, added_at)
SELECT user_id, role, name, added_by, added_at FROM people;
DROP TABLE people;
ALTER TABLE people_roles RENAME TO people;
CREATE INDEX people_role ON people (role, name);
