-- The twin of migrations/sqlite/0006_people_roles.sql: one row per person
-- and role, so that a dispatcher may also be a master.
ALTER TABLE people DROP CONSTRAINT people_pkey;
ALTER TABLE people ADD PRIMARY KEY (user_id, role);
CREATE INDEX people_role ON people (role, name);
